import { HumanMessage } from '@langchain/core/messages';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAi } from '../../../test/support/fake-openai.js';
import { loadConfig } from '../../config/app-config.js';
import { ProviderNotReachedError, reachedProvider } from './call-billing.js';
import type { LlmMeter, MeteredCall, MeteredUsage } from './llm-meter.js';
import { ProviderChatModel } from './provider-chat-model.js';

/** A meter that keeps what each reservation ended with. */
class RecordingMeter implements LlmMeter {
  readonly ends: Array<{ settled?: MeteredUsage; released?: true }> = [];
  reserve(_call: MeteredCall) {
    const end: { settled?: MeteredUsage; released?: true } = {};
    this.ends.push(end);
    return Promise.resolve({
      settle: (usage: MeteredUsage) => Promise.resolve(void (end.settled = usage)),
      release: () => Promise.resolve(void (end.released = true)),
    });
  }
}

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('call billing: what reached the provider', () => {
  let dataDir: string;
  const model = (env: Record<string, string>) => {
    const chat = new ProviderChatModel(
      loadConfig({ DATA_DIR: dataDir, OPENAI_API_KEY: 'sk-test-fake-openai', ...env }),
    );
    const meter = new RecordingMeter();
    chat.useMeter(meter);
    return { chat, meter };
  };
  const caller = { role: 'agent', userId: '00000000-0000-4000-8000-000000000001', tier: 'pro' } as const;

  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'adiuva-billing-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('releases a call whose connection was refused: nothing was sent', async () => {
    const { chat, meter } = model({
      OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`,
      LLM_MAX_RETRIES: '0',
    });
    await expect(chat.invoke([new HumanMessage('hi')], caller)).rejects.toMatchObject({
      appCode: 'provider_unavailable',
    });
    expect(meter.ends).toEqual([{ released: true }]);
  });

  it('bills neither a 429 nor a 5xx attempt, and the retried answer with the provider’s figures', async () => {
    const fake = await new FakeOpenAi().start();
    try {
      const { chat, meter } = model({ OPENAI_BASE_URL: fake.baseUrl, LLM_MAX_RETRIES: '2' });
      fake.reply(
        { status: 429 },
        { status: 503 },
        { content: 'ok', usage: { prompt_tokens: 7, completion_tokens: 1 } },
      );
      await chat.invoke([new HumanMessage('hi')], caller);
      expect(fake.chat).toHaveLength(3);
      expect(meter.ends).toEqual([{ settled: { promptTokens: 7, completionTokens: 1, estimated: false } }]);
    } finally {
      await fake.stop();
    }
  });

  it('bills an invoke cancelled after sending: the prompt, counted, flagged estimated', async () => {
    const fake = await new FakeOpenAi().start();
    try {
      const { chat, meter } = model({ OPENAI_BASE_URL: fake.baseUrl, LLM_MAX_RETRIES: '0' });
      fake.reply({ hang: true });
      const abort = new AbortController();
      const call = chat.invoke([new HumanMessage('a prompt of some words')], {
        ...caller,
        signal: abort.signal,
      });
      const sent = async () => {
        while (fake.chat.length === 0) await new Promise((r) => setTimeout(r, 10));
      };
      await sent();
      abort.abort();
      await expect(call).rejects.toMatchObject({ appCode: 'request_cancelled' });
      expect(meter.ends).toHaveLength(1);
      expect(meter.ends[0].settled).toMatchObject({ completionTokens: 0, estimated: true });
      expect(meter.ends[0].settled!.promptTokens).toBeGreaterThan(5);
    } finally {
      await fake.stop();
    }
  });

  it('releases a call whose caller was gone before it was handed over', async () => {
    const fake = await new FakeOpenAi().start();
    try {
      const { chat, meter } = model({ OPENAI_BASE_URL: fake.baseUrl });
      const abort = new AbortController();
      abort.abort();
      await expect(
        chat.invoke([new HumanMessage('hi')], { ...caller, signal: abort.signal }),
      ).rejects.toMatchObject({
        appCode: 'request_cancelled',
      });
      expect(fake.chat).toHaveLength(0);
      expect(meter.ends).toEqual([{ released: true }]);
    } finally {
      await fake.stop();
    }
  });

  it('tells errors apart: a status or a refused connection (in the cause chain) reached nothing billable', () => {
    expect(reachedProvider(Object.assign(new Error('x'), { status: 500 }))).toBe(false);
    expect(
      reachedProvider(new Error('wrapped', { cause: new ProviderNotReachedError('ECONNREFUSED') })),
    ).toBe(false);
    const aborted = Object.assign(new Error('Request was aborted.'), { name: 'AbortError' });
    expect(reachedProvider(aborted)).toBe(true);
    expect(reachedProvider(new Error('terminated', { cause: { code: 'ECONNRESET' } }))).toBe(true);
  });
});
