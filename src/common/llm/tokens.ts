import { Logger } from '@nestjs/common';
import type { BaseMessage } from '@langchain/core/messages';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/*
 * Counting tokens for the model ports: a generous estimate for a call's
 * reservation, the real tokenizer for what is recorded without the
 * provider's figures.
 */

/** Tokens the chat format adds per message (role, separators), as OpenAI's own counting guide does. */
const PER_MESSAGE_TOKENS = 4;

/**
 * A quick, deliberately generous estimate of a prompt's tokens for the
 * reservation: a third of its UTF-8 bytes (English runs about four
 * characters a token; scripts with multi-byte characters come close to a
 * token per character), plus the per-message overhead. The tokenizer is for
 * what must be recorded without the provider's figures.
 */
export function estimatePromptTokens(messages: BaseMessage[], extra = ''): number {
  let bytes = Buffer.byteLength(extra, 'utf8');
  for (const m of messages) {
    bytes += Buffer.byteLength(typeof m.content === 'string' ? m.content : JSON.stringify(m.content), 'utf8');
    const calls = (m as { tool_calls?: unknown[] }).tool_calls;
    if (calls?.length) bytes += Buffer.byteLength(JSON.stringify(calls), 'utf8');
  }
  return Math.ceil(bytes / 3) + PER_MESSAGE_TOKENS * messages.length + 3;
}

const logger = new Logger('Tokenizer');

// The worker's code, inline (CommonJS) so it needs no separate file in dist/ or under Jest.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const started = performance.now();
const { Tiktoken } = require(workerData.lite);
const encoder = new Tiktoken(require(workerData.ranks));
parentPort.postMessage({ loadedMs: Math.round(performance.now() - started) });
parentPort.on('message', (m) => {
  let tokens = 0;
  for (const text of m.texts) tokens += encoder.encode(text).length;
  parentPort.postMessage({ id: m.id, tokens });
});
`;

let worker: Worker | undefined;
let nextId = 0;
/**
 * The tokenizer's tables hold about 170 MB of the process's memory: a worker
 * idle this long is stopped, and the next count starts it again (a second).
 */
let idleMs = 5 * 60_000;
let idleTimer: NodeJS.Timeout | undefined;

/** How long an idle tokenizer stays loaded (tests shorten it). */
export function setTokenizerIdleMs(ms: number): void {
  idleMs = ms;
}

/** Whether the tokenizer's worker is running (for the footprint tests). */
export function tokenizerLoaded(): boolean {
  return worker !== undefined;
}

function stopWhenIdle(): void {
  clearTimeout(idleTimer);
  if (waiting.size > 0 || !worker) return;
  const w = worker;
  idleTimer = setTimeout(() => {
    if (worker !== w || waiting.size > 0) return;
    worker = undefined;
    void w.terminate();
  }, idleMs).unref();
}
const waiting = new Map<number, { resolve: (n: number) => void; reject: (err: Error) => void }>();

function tokenizer(): Worker {
  if (worker) return worker;
  const require = createRequire(import.meta.url);
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      lite: require.resolve('js-tiktoken/lite'),
      ranks: require.resolve('js-tiktoken/ranks/o200k_base'),
    },
  });
  w.on('message', (m: { id?: number; tokens?: number; loadedMs?: number }) => {
    if (m.loadedMs !== undefined) return logger.log(`Tokenizer o200k_base loaded in ${m.loadedMs} ms`);
    waiting.get(m.id!)?.resolve(m.tokens!);
    waiting.delete(m.id!);
    stopWhenIdle();
  });
  let failure = new Error('The tokenizer worker stopped');
  w.on('error', (err) => (failure = err));
  w.on('exit', () => {
    // A worker stopped for idleness had nothing waiting; counts sent since went to its successor.
    if (worker !== w) return;
    worker = undefined;
    for (const p of waiting.values()) p.reject(failure);
    waiting.clear();
  });
  w.unref();
  return (worker = w);
}

/**
 * Token count with the real tokenizer of the GPT-4o family (`o200k_base`,
 * js-tiktoken), on a worker thread: its tables take about a second and 75 MB
 * to load, and counting a long text takes milliseconds, none of it on the
 * event loop. Loaded the first time it is needed: when a stream is cut before
 * the provider's usage arrives, or a provider sends no usage.
 */
export function countTokens(texts: string[]): Promise<number> {
  clearTimeout(idleTimer);
  const w = tokenizer();
  const id = nextId++;
  return new Promise<number>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.postMessage({ id, texts });
  });
}

/**
 * A prompt's tokens counted with the tokenizer (for a call recorded without
 * the provider's figures): each message's content and the tool calls of the
 * assistant's earlier turns, plus `extra` (the tools' definitions).
 */
export async function countPromptTokens(messages: BaseMessage[], extra = ''): Promise<number> {
  const texts = messages.map((m) => {
    const content = typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
    const calls = (m as { tool_calls?: unknown[] }).tool_calls;
    return calls?.length ? content + JSON.stringify(calls) : content;
  });
  return (await countTokens([...texts, extra])) + PER_MESSAGE_TOKENS * messages.length + 3;
}
