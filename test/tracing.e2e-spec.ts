import { trace } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTracing } from '../src/common/tracing/tracing.js';
import { loadConfig } from '../src/config/app-config.js';
import { FakeOpenAi } from './support/fake-openai.js';
import { type ServerProcess, spawnServer, waitFor200 } from './support/server-process.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpSpan {
  traceId: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpExport {
  resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }> }>;
}

/** A local OTLP/HTTP receiver: keeps every JSON export it is sent at /v1/traces. */
class OtlpReceiver {
  readonly bodies: string[] = [];
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') this.bodies.push(body);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  spans(): OtlpSpan[] {
    return this.bodies.flatMap((body) =>
      (JSON.parse(body) as OtlpExport).resourceSpans.flatMap((r) =>
        r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ ...span, scope: s.scope.name }))),
      ),
    );
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
};

const stop = async (server: ServerProcess | undefined) => {
  if (!server || server.proc.exitCode !== null) return;
  server.proc.kill('SIGTERM');
  await server.exited;
};

describe('OpenTelemetry tracing (the built server as a process)', () => {
  let fake: FakeOpenAi;
  let receiver: OtlpReceiver;
  let traced: ServerProcess | undefined;
  let untraced: ServerProcess | undefined;
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'adiuva-tracing-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    fake = await new FakeOpenAi().start();
    receiver = await new OtlpReceiver().start();
    const common = { ...fake.env, LOG_LEVEL: 'warn', BLOB_SWEEP_INTERVAL_MS: '0' };
    [traced, untraced] = await Promise.all([
      spawnServer({ ...common, DATA_DIR: dataDir(), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }),
      spawnServer({ ...common, DATA_DIR: dataDir() }),
    ]);
    await Promise.all([
      waitFor200(`${traced.url}/api/v1/health`, 90_000, traced),
      waitFor200(`${untraced.url}/api/v1/health`, 90_000, untraced),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([stop(traced), stop(untraced)]);
    await receiver.stop();
    await fake.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** Registers an account and has one chat, all carrying `canary` (email, prompt) under `requestId`. */
  const chatThrough = async (url: string, canary: string, requestId: string) => {
    const register = await fetch(`${url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${canary}@example.com`, password: 'correct horse battery staple' }),
    });
    expect(register.status).toBe(201);
    const { access_token: token } = (await register.json()) as { access_token: string };
    fake.reply({ content: 'task_agent' }, { content: `Noted: ${canary} answered` });
    const chat = await fetch(`${url}/api/v1/chat`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        Authorization: `Bearer ${token}`,
        'X-Request-Id': requestId,
      },
      body: JSON.stringify({ message: `Remember the word ${canary}` }),
    });
    expect(chat.status).toBe(200);
    expect(JSON.stringify(await chat.json())).toContain(canary);
  };

  it('exports the request as one trace: the HTTP span with the request id, its queries and its model calls', async () => {
    const canary = `cnrytrace${randomBytes(6).toString('hex')}`;
    await chatThrough(traced!.url, canary, 'trace-req-1');
    let server: OtlpSpan | undefined;
    for (let i = 0; i < 100 && !server; i++) {
      await new Promise((r) => setTimeout(r, 100));
      server = receiver.spans().find((s) => attribute(s, 'adiuva.request_id') === 'trace-req-1');
    }
    expect(server).toBeDefined();
    expect(server!.name).toBe('POST /api/v1/chat');
    expect(attribute(server!, 'http.route')).toBe('/api/v1/chat');
    expect(attribute(server!, 'http.response.status_code')).toBe(200);
    const scopes = new Set(
      receiver
        .spans()
        .filter((s) => s.traceId === server!.traceId)
        .map((s) => (s as OtlpSpan & { scope: string }).scope),
    );
    expect(scopes).toEqual(
      new Set([
        '@opentelemetry/instrumentation-http',
        '@opentelemetry/instrumentation-express',
        '@opentelemetry/instrumentation-pg',
        '@opentelemetry/instrumentation-undici',
      ]),
    );
    // Two model calls (router, agent) to the provider, as client spans with the origin only.
    const calls = receiver
      .spans()
      .filter((s) => s.traceId === server!.traceId && (s as { scope?: string }).scope?.endsWith('undici'));
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(String(attribute(call, 'url.full'))).toBe(new URL(fake.baseUrl).origin);
  });

  it('never exports a body, a prompt, an answer, an email or a path with an id', async () => {
    const canary = `cnrytrace${randomBytes(6).toString('hex')}`;
    await chatThrough(traced!.url, canary, 'trace-req-2');
    await fetch(`${traced!.url}/api/v1/plans/playbook/${canary}?q=${canary}`);
    await new Promise((r) => setTimeout(r, 2500)); // two export intervals
    const exported = receiver.bodies.join('\n');
    expect(exported).toContain('trace-req-2');
    expect(exported.toLowerCase()).not.toContain(canary);
    expect(exported).not.toContain('correct horse');
    expect(exported).not.toMatch(/authorization|bearer/i);
  });

  it('adds nothing when OTEL_EXPORTER_OTLP_ENDPOINT is unset: no SDK, no export', async () => {
    const before = receiver.bodies.length;
    const canary = `cnrytrace${randomBytes(6).toString('hex')}`;
    await chatThrough(untraced!.url, canary, 'untraced-req');
    await new Promise((r) => setTimeout(r, 2500));
    expect(receiver.bodies.slice(before).join('\n')).not.toContain('untraced-req');
    expect(receiver.bodies.slice(before).join('\n')).not.toContain(canary);
    // In this process too: starting with the variable unset registers no tracer provider.
    expect(await startTracing(loadConfig({ DATA_DIR: dataDir() }).tracing)).toBeUndefined();
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
  });
});
