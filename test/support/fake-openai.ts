import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A deterministic embedding of a text: floats in [-1, 1] from repeated
 * SHA-256 of it. The same text always gives the same vector, so a test can
 * store the vector a text will be embedded to and search by that text.
 */
export function fakeEmbedding(text: string, dims: number): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dims; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (const b of digest) {
      if (out.length === dims) break;
      out.push((b - 127.5) / 127.5);
    }
  }
  return out;
}

export interface FakeOpenAiRequest {
  path: string;
  model: string;
  authorization: string | undefined;
  dimensions?: number;
  inputs: number;
}

/**
 * A local server speaking OpenAI's HTTP API (`POST /v1/embeddings`, with
 * float or base64 encodings as the official client asks), for the real
 * `@langchain/openai` client to talk to. Errors use OpenAI's error shape.
 */
export class FakeOpenAi {
  readonly requests: FakeOpenAiRequest[] = [];
  private server?: Server;
  private failures: number[] = [];

  constructor(
    readonly apiKey = 'sk-test-fake-openai',
    /** Dimension answered when the request does not ask for one. */
    readonly defaultDimensions = 1536,
  ) {}

  /** http://127.0.0.1:<port>/v1, the value for OPENAI_BASE_URL. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  /** The next `times` requests answer `status` (the client retries 5xx and 429). */
  failNext(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(status);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return send(res, 401, error('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return send(
        res,
        400,
        error('We could not parse the JSON body of your request.', 'invalid_request_error'),
      );
    }
    if (req.method === 'POST' && req.url === '/v1/embeddings') return this.embeddings(req, res, body);
    return send(res, 404, error(`Unknown request URL: ${req.method} ${req.url}`, 'invalid_request_error'));
  }

  private embeddings(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): void {
    const input = typeof body.input === 'string' ? [body.input] : (body.input as string[] | undefined);
    const dims = typeof body.dimensions === 'number' ? body.dimensions : this.defaultDimensions;
    this.requests.push({
      path: req.url!,
      model: String(body.model),
      authorization: req.headers.authorization,
      dimensions: body.dimensions as number | undefined,
      inputs: input?.length ?? 0,
    });
    const failure = this.failures.shift();
    if (failure)
      return send(res, failure, error('The server had an error processing your request.', 'server_error'));
    if (!Array.isArray(input) || input.some((i) => typeof i !== 'string')) {
      return send(
        res,
        400,
        error("'input' must be a string or an array of strings", 'invalid_request_error'),
      );
    }
    const base64 = body.encoding_format === 'base64';
    send(res, 200, {
      object: 'list',
      model: body.model,
      data: input.map((text, index) => {
        const vector = fakeEmbedding(text, dims);
        return {
          object: 'embedding',
          index,
          embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
        };
      }),
      usage: { prompt_tokens: input.length, total_tokens: input.length },
    });
  }
}

function error(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
