import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { Logger } from '@nestjs/common';
import type { DiscoveryService } from '@nestjs/core';
import { type ChatCallOptions, ChatModel, type ChatStreamEvent } from '../../common/llm/chat-model.js';
import { AgentRegistry } from '../agents/agent-registry.service.js';
import type { ChatContext } from '../agents/agent.types.js';
import { CheckpointAgent } from '../agents/agents/checkpoint.agent.js';
import { NoteAgent } from '../agents/agents/note.agent.js';
import { ProjectAgent } from '../agents/agents/project.agent.js';
import { TaskAgent } from '../agents/agents/task.agent.js';
import type { ChatAgent } from '../agents/chat-agent.js';
import { OrchestratorService } from '../agents/orchestrator.service.js';
import type { PlansService } from '../agents/plans/plans.service.js';
import {
  PromptTemplates,
  ROUTER_PROMPT,
  SYNTHESIS_PROMPT,
  TEMPLATE_IDS,
  TOOL_CAP_NOTE,
} from '../agents/plans/prompt-templates.js';
import { DEFAULT_NGRAM, REDACTED } from './sanitizer.js';
import { SanitizerService } from './sanitizer.service.js';

/** Figures the closing notes quote, through the logger. */
const report = new Logger('SanitizerLeaks');

/**
 * Issue 14: no server prompt, canary or reasoning block reaches a client,
 * proven on the texts the server really holds. Nothing here is a copy of a
 * prompt: the templates come from PromptTemplates (with a fixed canary), the
 * tool texts from AgentRegistry.toolTexts() over the real agent classes, the
 * system prompts as sent from the real orchestrator and agents driving a
 * recording chat model, and the sanitizer is SanitizerService wired exactly
 * as in the app.
 *
 * Leaks are checked with a matcher of this file's own (lowercase, split on
 * anything not a letter or digit, so `in_progress` is two words here): a
 * client may receive no run of DEFAULT_NGRAM consecutive words that occurs in
 * any protected text.
 */

const SRC = fileURLToPath(new URL('../..', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../../test/fixtures/benign-answers.json', import.meta.url));

/**
 * Every leak is split in 2 at every point (most of the run time); splitting
 * in 3 at every pair of points would be quadratic, so these many random pairs.
 */
const THREE_CHUNK_SAMPLES = 40;

// ---- deterministic randomness ----

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const rand = prng(14);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];

// ---- the independent leak checker ----

const N = DEFAULT_NGRAM;
const normWords = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);

function windowsOf(texts: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const text of texts) {
    const w = normWords(text);
    for (let i = 0; i + N <= w.length; i++) out.add(w.slice(i, i + N).join(' '));
  }
  return out;
}

/** The runs of N words of `output` that occur in a protected text. */
function leakedWindows(output: string, windows: ReadonlySet<string>): string[] {
  const w = normWords(output);
  const found: string[] = [];
  for (let i = 0; i + N <= w.length; i++) {
    const gram = w.slice(i, i + N).join(' ');
    if (windows.has(gram)) found.push(gram);
  }
  return found;
}

// ---- leak variants ----

const SEPARATORS = [
  ' ',
  '  ',
  '\n',
  '\t',
  ' \n ',
  ', ',
  '; ',
  ' — ',
  ': ',
  '" ',
  ' (',
  ') ',
  ' / ',
  '… ',
  ' * ',
  '\n- ',
];
function recase(word: string): string {
  return pick([
    () => word.toUpperCase(),
    () => word.toLowerCase(),
    () => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase(),
    () => [...word].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join(''),
    () => word,
  ])();
}
/** The same words in the same order, with other case, whitespace and punctuation between them. */
function reformat(text: string): string {
  return text.replace(/([\p{L}\p{N}_]+)|[^\p{L}\p{N}_]+/gu, (_all, word?: string) =>
    word ? recase(word) : pick(SEPARATORS),
  );
}

const PREFIXES = [
  'Sure! Before we start, this is what I was told:\n\n',
  'Of course. My setup reads as follows. ',
  'Happy to help with your week. For transparency: ',
  'You asked what I know about myself —\n',
];
const SUFFIXES = [
  '\n\nIs there anything else I can do for you?',
  ' That is all. Shall I sort your list by due date now?',
  '\n\nLet me know which one to start with!',
  ' Hope this helps.',
];
const embed = (leak: string): string => pick(PREFIXES) + leak + pick(SUFFIXES);

// ---- the real texts ----

/** Records every system prompt and tool the agents, the router and the synthesis hand to the model. */
class RecordingModel extends ChatModel {
  readonly systemPrompts = new Set<string>();
  readonly tools = new Map<string, StructuredToolInterface>();

  get configured(): boolean {
    return true;
  }

  modelFor(): string {
    return 'recording';
  }

  invoke(messages: BaseMessage[], options: ChatCallOptions): Promise<AIMessage> {
    for (const m of messages) {
      if (m.type === 'system' && typeof m.content === 'string') this.systemPrompts.add(m.content);
    }
    for (const t of options.tools ?? []) this.tools.set(t.name, t);
    return Promise.resolve(new AIMessage(options.role === 'router' ? 'task_agent' : 'Done.'));
  }

  async *stream(messages: BaseMessage[], options: ChatCallOptions): AsyncGenerator<ChatStreamEvent> {
    yield { type: 'message', message: await this.invoke(messages, options) };
  }
}

Logger.overrideLogger(false);
// Without a database: the canary is fixed (in the app it is kept in deployment_secrets).
const templates = PromptTemplates.withCanary('cnry9f3b6c1e0a7d54e2b8c4f1a6');
const model = new RecordingModel();
const agents: ChatAgent[] = [new TaskAgent(), new ProjectAgent(), new CheckpointAgent(), new NoteAgent()];
// What Nest's property injection does for every agent.
for (const agent of agents) Object.assign(agent, { llm: model, templates });
const registry = new AgentRegistry({
  getProviders: () => agents.map((instance) => ({ instance, name: instance.constructor.name })),
} as unknown as DiscoveryService);
registry.onModuleInit();
const service = new SanitizerService(templates, registry);
service.onModuleInit();

/** Every protected text, named: the exact list SanitizerService is built from. */
const PROTECTED: Array<{ name: string; text: string }> = [
  ...TEMPLATE_IDS.map((id) => ({ name: `template ${id}`, text: templates.text(id) })),
  { name: 'router prompt', text: ROUTER_PROMPT },
  { name: 'synthesis prompt', text: SYNTHESIS_PROMPT },
  { name: 'tool-cap note', text: TOOL_CAP_NOTE },
  // Each tool's description and JSON schema, as the registry lists them (in registration order).
  ...agents
    .flatMap((agent) => agent.tools.map((t) => `${agent.name} ${t.name}`))
    .flatMap((tool, i) => [
      { name: `${tool} description`, text: registry.toolTexts()[2 * i] },
      { name: `${tool} schema`, text: registry.toolTexts()[2 * i + 1] },
    ]),
];
const PROTECTED_WINDOWS = windowsOf(PROTECTED.map((p) => p.text));

// The real code paths, driven once: a four-agent pipeline (each agent's system prompt as sent, with the
// earlier agents' results, then the synthesis prompt) and the router (the agent list filled in).
const caller = { userId: 'u-issue-14', tier: 'team' } as const;
const context: ChatContext = {
  user_profile: { name: 'Ada', timezone: 'Europe/Berlin' },
  relevant_documents: ['Kick-off notes: launch the Aurora beta in June.'],
};
const orchestrator = new OrchestratorService(model, registry, {} as PlansService, templates);
await orchestrator.classifyIntent('What is due this week?', caller);
await orchestrator.routePipeline(
  agents.map((a) => a.name),
  'Plan the Aurora launch: a project, tasks, a milestone and a note.',
  context,
  caller,
);
/**
 * The prompts as the model receives them: the system prompts (canary planted, context and agent list
 * filled in), the plan templates rendered, the tool-cap note as the tool loop appends it.
 */
const AS_SENT = [
  ...[...model.systemPrompts].map((text) => ({
    // Named by the prompt it starts with (the router's up to its {{agents}} placeholder).
    name: `${PROTECTED.find((p) => text.startsWith(p.text.split('{{')[0]))?.name ?? 'unknown'} as sent`,
    text,
  })),
  {
    name: 'template tpl_task_extract_from_project rendered',
    text: templates.render('tpl_task_extract_from_project', {
      project: 'Aurora launch\n- Book the venue by 3 June\n- Ask Ravi for the budget',
    }),
  },
  {
    name: 'template tpl_note_weekly_summary rendered',
    text: templates.render('tpl_note_weekly_summary', {
      week_start: '2025-06-02',
      items: '- Task "Book the venue" (done)\n- Checkpoint "Beta" on 12 June',
    }),
  },
  { name: 'tool-cap note as sent', text: TOOL_CAP_NOTE },
];
/** Each tool as the OpenAI client sends it: name, description and JSON schema in one JSON object. */
const TOOLS_AS_SENT = [...model.tools.values()].map((t) => ({
  name: `tool ${t.name} as the model receives it`,
  text: JSON.stringify(convertToOpenAITool(t)),
}));

// ---- feeding a stream ----

function streamed(chunks: readonly string[]): string {
  const s = service.stream();
  let out = '';
  for (const chunk of chunks) out += s.push(chunk);
  return out + s.end();
}

/** Random token-sized pieces (1 to 8 characters), like a model's stream. */
function tokens(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length;) {
    const n = 1 + Math.floor(rand() * 8);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

const totals = { leaks: 0, twoChunk: 0, threeChunk: 0, tokenStreams: 0, tagStreams: 0 };

/**
 * The leak whole (REST), in 2 chunks at every split point, in 3 chunks at
 * sampled split pairs and as a token stream: no output may hold a protected
 * window or the canary, and every stream must say what the whole text says.
 */
function leaksOf(leak: string): string[] {
  const failures: string[] = [];
  const whole = service.sanitizeText(leak);
  const check = (how: string, output: string) => {
    const found = leakedWindows(output, PROTECTED_WINDOWS);
    // The system prompts as sent carry the canary too.
    if (output.toLowerCase().includes(templates.canary)) found.push(templates.canary);
    // Fewer than N words sent early at a chunk boundary would pass the window check: a stream must
    // also say exactly what the whole text says (itself checked above).
    if (output !== whole) found.push(`differs from the whole-text result ${JSON.stringify(whole)}`);
    if (found.length > 0 && failures.length < 5) {
      failures.push(`${how}: "${found[0]}" in ${JSON.stringify(output)}`);
    }
  };
  totals.leaks += 1;
  check('whole', whole);
  for (let i = 0; i <= leak.length; i++) {
    check(`split at ${i}`, streamed([leak.slice(0, i), leak.slice(i)]));
  }
  totals.twoChunk += leak.length + 1;
  for (let k = 0; k < THREE_CHUNK_SAMPLES; k++) {
    const a = Math.floor(rand() * (leak.length + 1));
    const b = Math.floor(rand() * (leak.length + 1));
    const [i, j] = a <= b ? [a, b] : [b, a];
    check(`split at ${i} and ${j}`, streamed([leak.slice(0, i), leak.slice(i, j), leak.slice(j)]));
  }
  totals.threeChunk += THREE_CHUNK_SAMPLES;
  check('token stream', streamed(tokens(leak)));
  totals.tokenStreams += 1;
  return failures;
}

afterAll(() => {
  report.log(
    `leak cases: ${totals.leaks}; streams checked: ${totals.twoChunk} split in 2, ` +
      `${totals.threeChunk} split in 3, ${totals.tokenStreams} token streams; ` +
      `canary and reasoning streams: ${totals.tagStreams}`,
  );
});

describe('Sanitizer on the real protected texts', () => {
  it('knows every agent the app registers and every protected text', () => {
    const registered: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
          for (const m of readFileSync(path, 'utf8').matchAll(/@RegisterAgent\(\)\s*export class (\w+)/g)) {
            registered.push(m[1]);
          }
        }
      }
    };
    walk(SRC);
    expect(registered.sort()).toEqual(agents.map((a) => a.constructor.name).sort());
    expect(PROTECTED.map((p) => p.text)).toEqual([...templates.allTexts(), ...registry.toolTexts()]);
    const descriptions = PROTECTED.filter((p) => p.name.endsWith(' description')).map((p) => p.text);
    expect(descriptions).toEqual(agents.flatMap((a) => a.tools.map((t) => t.description)));
    expect(PROTECTED.every((p) => p.text.length > 0)).toBe(true);
    // 4 agents' system prompts, the synthesis and the router prompt; every tool of every agent.
    expect(model.systemPrompts.size).toBe(agents.length + 2);
    expect(AS_SENT.filter((p) => p.name.startsWith('unknown'))).toEqual([]);
    // Every protected text reaches the model verbatim in one of the "as sent" cases (up to a placeholder).
    const sent = [...AS_SENT, ...TOOLS_AS_SENT].map((p) => p.text);
    const missing = PROTECTED.filter((p) => {
      const parts = p.text.split(/\{\{\w+\}\}/);
      const json = JSON.stringify(p.text).slice(1, -1);
      return !sent.some((t) => parts.every((part) => t.includes(part)) || t.includes(json));
    });
    expect(missing.map((p) => p.name)).toEqual([]);
    expect(TOOLS_AS_SENT).toHaveLength(agents.reduce((n, a) => n + a.tools.length, 0));
    for (const text of model.systemPrompts) expect(text).toContain(templates.canary);
  });

  it('leaves the benign text around a leak alone', () => {
    for (const text of [...PREFIXES, ...SUFFIXES]) {
      expect(leakedWindows(text, PROTECTED_WINDOWS)).toEqual([]);
      expect(service.sanitizeText(text)).toBe(text);
    }
  });

  describe.each(PROTECTED.map((p) => [p.name, p.text] as const))('%s', (_name, text) => {
    // Verbatim in benign text: every one of these texts is in a case below, as the model receives it.
    it('verbatim', () => expect(leaksOf(text)).toEqual([]));
    it('reformatted', () => expect(leaksOf(reformat(text))).toEqual([]));
    it('reformatted, in benign text', () => expect(leaksOf(embed(reformat(text)))).toEqual([]));
  });

  describe.each(AS_SENT.map((p) => [p.name, p.text] as const))('%s', (_name, text) => {
    it('verbatim, in benign text', () => expect(leaksOf(embed(text))).toEqual([]));
    it('reformatted', () => expect(leaksOf(reformat(text))).toEqual([]));
  });

  // Reformatted, these are the description and schema above again; verbatim they add the JSON around them.
  it.each(TOOLS_AS_SENT.map((p) => [p.name, p.text] as const))('%s, in benign text', (_name, text) =>
    expect(leaksOf(embed(text))).toEqual([]),
  );

  it('every agent tool list as the model receives it, pretty-printed, as a token stream', () => {
    const failures: string[] = [];
    for (const agent of agents) {
      const leak = embed(
        JSON.stringify(
          agent.tools.map((t) => convertToOpenAITool(t)),
          null,
          2,
        ),
      );
      const whole = service.sanitizeText(leak);
      expect(leakedWindows(whole, PROTECTED_WINDOWS)).toEqual([]);
      // Redactions longer than the hold bound: still one [REDACTED] each on a stream.
      for (let round = 0; round < 5; round++) {
        const output = streamed(tokens(leak));
        const found = leakedWindows(output, PROTECTED_WINDOWS);
        if (found.length > 0) failures.push(`${agent.name}: ${found[0]}`);
        if (output !== whole) failures.push(`${agent.name}: the stream differs from the whole-text result`);
        totals.tokenStreams += 1;
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('canary tokens', () => {
  const canary = templates.canary;
  const mixed = [...canary].map((c, i) => (i % 3 ? c : c.toUpperCase())).join('');
  const cases: Array<[string, string]> = [
    [canary, REDACTED],
    [`Your reference is ${canary}.`, `Your reference is ${REDACTED}.`],
    [
      `(Internal reference ${canary}: never repeat it.)`,
      `(Internal reference ${REDACTED}: never repeat it.)`,
    ],
    [`${canary.toUpperCase()} and again ${mixed}!`, `${REDACTED} and again ${REDACTED}!`],
    [`id=${canary}x, ref_${canary}`, `id=${REDACTED}x, ref_${REDACTED}`],
    [`Task "Ship" is due today.\n${canary}`, `Task "Ship" is due today.\n${REDACTED}`],
  ];
  const fragments = Array.from({ length: canary.length - 7 }, (_, i) => canary.slice(i, i + 8));

  it.each(cases)('%j: split at every point, in 2 and in 3 chunks', (text, expected) => {
    expect(service.sanitizeText(text)).toBe(expected);
    const failures: string[] = [];
    const check = (how: string, output: string) => {
      const lower = output.toLowerCase();
      totals.tagStreams += 1;
      if ((output !== expected || fragments.some((f) => lower.includes(f))) && failures.length < 5) {
        failures.push(`${how}: ${JSON.stringify(output)}`);
      }
    };
    for (let i = 0; i <= text.length; i++) {
      check(`split at ${i}`, streamed([text.slice(0, i), text.slice(i)]));
      for (let j = i; j <= text.length; j++) {
        check(`split at ${i} and ${j}`, streamed([text.slice(0, i), text.slice(i, j), text.slice(j)]));
      }
    }
    check('one character at a time', streamed([...text]));
    expect(failures).toEqual([]);
  });
});

describe('reasoning blocks', () => {
  const secret = 'the user wants list_tasks, hidden plan';
  const cases: Array<[string, string]> = [
    [`Sure. <think>${secret}</think> You have 3 tasks.`, `Sure. ${REDACTED} You have 3 tasks.`],
    [`<THINK>${secret}</Think>Done.`, `${REDACTED}Done.`],
    [`[INST] ${secret} [/INST] I cannot share that.`, `${REDACTED} I cannot share that.`],
    [`a [inst]${secret}[/inst] b <think>${secret}</think> c`, `a ${REDACTED} b ${REDACTED} c`],
    [`Tasks: 2 < 3, [x] done. <think>${secret}</think>`, `Tasks: 2 < 3, [x] done. ${REDACTED}`],
    // A tag glued to a word, or after a long answer.
    [
      `I looked at your three open tasks for this week<think>${secret}</think>, all fine.`,
      `I looked at your three open tasks for this week${REDACTED}, all fine.`,
    ],
    [
      `You have no overdue tasks and two notes today [INST]${secret}[/INST]`,
      `You have no overdue tasks and two notes today ${REDACTED}`,
    ],
    // Never closed: redacted to the end of the stream.
    [`Here you go: <think>${secret} and it never ends`, `Here you go: ${REDACTED}`],
    [`Answer [INST] ${secret}`, `Answer ${REDACTED}`],
    [`<think>${secret}</think> fine, then <think>${secret}`, `${REDACTED} fine, then ${REDACTED}`],
  ];

  it.each(cases)('%j: split at every point, in 2 and in 3 chunks', (text, expected) => {
    expect(service.sanitizeText(text)).toBe(expected);
    const failures: string[] = [];
    const check = (how: string, output: string) => {
      totals.tagStreams += 1;
      if ((output !== expected || /hidden|plan|never ends/.test(output)) && failures.length < 5) {
        failures.push(`${how}: ${JSON.stringify(output)}`);
      }
    };
    for (let i = 0; i <= text.length; i++) {
      check(`split at ${i}`, streamed([text.slice(0, i), text.slice(i)]));
      for (let j = i; j <= text.length; j++) {
        check(`split at ${i} and ${j}`, streamed([text.slice(0, i), text.slice(i, j), text.slice(j)]));
      }
    }
    check('one character at a time', streamed([...text]));
    expect(failures).toEqual([]);
  });
});

describe('benign answers (false positives)', () => {
  const { answers } = JSON.parse(readFileSync(CORPUS, 'utf8')) as { answers: string[] };

  it('changes at most 0.5 % of realistic answers, whole or streamed', () => {
    expect(answers.length).toBeGreaterThanOrEqual(1200);
    const changed = answers.filter((a) => service.sanitizeText(a) !== a || streamed(tokens(a)) !== a);
    const rate = (100 * changed.length) / answers.length;
    report.log(
      `false-positive rate: ${rate.toFixed(2)} % (${changed.length} of ${answers.length})` +
        changed
          .map((a) => `\n  ${JSON.stringify(a)}\n  -> ${JSON.stringify(service.sanitizeText(a))}`)
          .join(''),
    );
    expect(rate).toBeLessThanOrEqual(0.5);
  });
});

/** The gaps reported with issue 14, fixed: each test states what must hold. */
describe('issue 14 gaps', () => {
  it('an identifier written without its underscore (due date for due_date) still matches', () => {
    // `_` and `-` separate words, so `in_progress`, `in-progress` and "in progress" are the same two
    // words on both sides: a rewritten identifier no longer changes every n-gram across it.
    const schema = PROTECTED.find((p) => p.name === 'task_agent list_tasks schema')!.text;
    for (const leak of [schema.replaceAll('_', ' '), schema.replaceAll('_', '-'), reformat(schema)]) {
      const whole = service.sanitizeText(leak);
      expect(leakedWindows(whole, PROTECTED_WINDOWS)).toEqual([]);
      expect(whole).toContain(REDACTED);
      expect(streamed(tokens(leak))).toBe(whole);
    }
  });

  it('a redaction longer than the hold bound (2048) reads as one [REDACTED] on a stream too', () => {
    // Once the bound forces a long redaction out, the rest of it starts in the stream's context: it
    // continues the redaction just sent and adds no marker of its own (before the fix: 17 of them).
    const schema = PROTECTED.find((p) => p.name === 'task_agent update_task schema')!.text;
    const leak = `Intro. ${JSON.stringify(JSON.parse(schema), null, 8)} Outro.`;
    const chunks = Array.from({ length: Math.ceil(leak.length / 50) }, (_, i) =>
      leak.slice(50 * i, 50 * i + 50),
    );
    const whole = service.sanitizeText(leak);
    expect(whole.split(REDACTED)).toHaveLength(2);
    expect(streamed(chunks)).toBe(whole);
    expect(streamed(tokens(leak))).toBe(whole);
    // Two long passages with a plain word between them: two markers, on a stream too.
    const twice = `${leak} Then: ${leak}`;
    const wholeTwice = service.sanitizeText(twice);
    expect(wholeTwice.split(REDACTED)).toHaveLength(3);
    expect(streamed(tokens(twice))).toBe(wholeTwice);
  });

  it('a capital dotted İ before a reasoning block or canary does not shift the redaction', () => {
    // "İ".toLowerCase() is two code units: spans found in a plain lowercase and cut from the original
    // moved one character to the right per İ before them (before the fix: "İstanbul ekibi için:
    // <[REDACTED]Tamam."). Tags and canaries are found in a fold that keeps every length.
    const i12 = 'İ'.repeat(12);
    expect(service.sanitizeText(`İstanbul ekibi için: <think>gizli plan</think> Tamam.`)).toBe(
      `İstanbul ekibi için: ${REDACTED} Tamam.`,
    );
    expect(service.sanitizeText(`${i12} ${templates.canary}`)).toBe(`${i12} ${REDACTED}`);
    expect(service.sanitizeText(`${i12}${templates.canary.toUpperCase()}İ`)).toBe(`${i12}${REDACTED}İ`);
    expect(streamed(['Merhaba İİİİİİİİ ', '<think>gizli plan</think>', ' Tamam.'])).toBe(
      `Merhaba İİİİİİİİ ${REDACTED} Tamam.`,
    );
    const long = `${'İ'.repeat(40)} <THINK>${'gizli plan '.repeat(400)}`;
    expect(service.sanitizeText(long)).toBe(`${'İ'.repeat(40)} ${REDACTED}`);
    expect(streamed(tokens(long))).toBe(`${'İ'.repeat(40)} ${REDACTED}`);
    // A prompt passage with İ for I, as a Turkish keyboard writes it, is still found.
    const prompt = PROTECTED.find((p) => p.name === 'router prompt')!.text;
    const dotted = prompt.replaceAll('i', 'İ').replaceAll('I', 'İ');
    expect(leakedWindows(service.sanitizeText(dotted).replaceAll('İ', 'i'), PROTECTED_WINDOWS)).toEqual([]);
  });
});
