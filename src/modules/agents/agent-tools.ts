import type { StructuredToolInterface } from '@langchain/core/tools';
import type { RunnableConfig } from '@langchain/core/runnables';
import { z } from 'zod';
import type { ActionTable, ChatContext, PlanAction } from './agent.types.js';

/** What a tool hands back: the JSON the model reads, and the actions it proposes (in call order). */
export interface ToolOutcome {
  result: unknown;
  actions?: PlanAction[];
}

export interface ToolSpec<S extends z.ZodObject> {
  name: string;
  description: string;
  schema: S;
  run(args: z.output<S>, context: ChatContext): ToolOutcome;
}

/**
 * An agent's tool as declared: its name, description and zod schema, and what it does. It becomes
 * a LangChain tool (`langChainTools`) on the first turn that offers it to a model, so a server that
 * never chats never loads LangChain (~700 modules, ~20 MiB of an idle server's memory).
 */
export type AgentTool = Readonly<ToolSpec<z.ZodObject>>;

/** The key under which a turn passes its ChatContext to the tools (LangChain's `configurable`). */
const CONTEXT_KEY = 'chat_context';

export function toolConfig(context: ChatContext): RunnableConfig {
  return { configurable: { [CONTEXT_KEY]: context } };
}

/** Declares a tool; typed by its schema, so `run` receives the parsed arguments. */
export function defineTool<S extends z.ZodObject>(spec: ToolSpec<S>): AgentTool {
  return Object.freeze({ ...spec });
}

const built = new WeakMap<AgentTool, StructuredToolInterface>();

/**
 * The tools as LangChain tools with zod schemas, each built once. The context arrives through
 * the call's config, so one tool instance serves every request; the proposed actions are the
 * ToolMessage's artifact, never shown to the model.
 */
export async function langChainTools(tools: readonly AgentTool[]): Promise<StructuredToolInterface[]> {
  const { tool } = await import('@langchain/core/tools');
  return tools.map((spec) => {
    let made = built.get(spec);
    if (!made) {
      made = tool(
        (args: Record<string, unknown>, config?: RunnableConfig): [string, PlanAction[]] => {
          const context = (config?.configurable?.[CONTEXT_KEY] ?? {}) as ChatContext;
          const outcome = spec.run(args, context);
          return [JSON.stringify(outcome.result), outcome.actions ?? []];
        },
        {
          name: spec.name,
          description: spec.description,
          schema: spec.schema,
          responseFormat: 'content_and_artifact',
        },
      ) as StructuredToolInterface;
      built.set(spec, made);
    }
    return made;
  });
}

// ---- argument schemas shared by the agents ----

export const id = (what: string) => z.string().trim().min(1).max(200).describe(`The ${what} id`);
/** Milliseconds since the Unix epoch (2000-01-01 … 2200-01-01), as every time on the wire. */
export const msTimestamp = (what: string) =>
  z
    .number()
    .int()
    .min(946_684_800_000)
    .max(7_258_118_400_000)
    .describe(`${what}, in milliseconds since the Unix epoch`);
/** Optional integers of update tools: -1 (the sentinel the desktop app's tools have always sent) means "leave unchanged". */
export const unchangedIfMinusOne = <T extends z.ZodType>(schema: T) =>
  z.union([z.literal(-1), schema]).optional();
export const TASK_STATUS = z.enum(['todo', 'in_progress', 'done']);
export const PRIORITY = z.enum(['high', 'medium', 'low']);
export const PROJECT_STATUS = z.enum(['active', 'archived']);
export const title = z.string().trim().min(1).max(500);
export const longText = z.string().max(100_000);
/** The desktop app stores assignees as a JSON-encoded array of names. */
export const assigneesJson = z
  .string()
  .max(10_000)
  .refine(
    (v) => {
      try {
        const parsed: unknown = JSON.parse(v);
        return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string');
      } catch {
        return false;
      }
    },
    { message: 'assignees must be a JSON-encoded array of strings, e.g. "[\\"Ada\\"]"' },
  )
  .describe('JSON-encoded array of assignee names, e.g. "[\\"Ada\\", \\"Linus\\"]"');

// ---- actions ----

/** Drops undefined fields and the -1 sentinel, so an update carries only what changes. */
export function changes(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== -1));
}

export const createRecord = (table: ActionTable, data: Record<string, unknown>): PlanAction => ({
  type: 'create_record',
  table,
  data: changes(data),
  agent: null,
});
export const updateRecord = (table: ActionTable, recordId: string, data: Record<string, unknown>) =>
  ({ type: 'update_record', table, data: { id: recordId, ...changes(data) }, agent: null }) as PlanAction;
export const deleteRecord = (table: ActionTable, recordId: string): PlanAction => ({
  type: 'delete_record',
  table,
  data: { id: recordId },
  agent: null,
});

/** The confirmation the model reads after a write tool: the change is proposed, the app applies it. */
export const proposed = (action: PlanAction): ToolOutcome => ({
  result: { status: 'proposed', action: action.type, table: action.table, data: action.data },
  actions: [action],
});

// ---- reading the context ----

const MAX_ITEMS = 50;

export function records(context: ChatContext, key: string): Record<string, unknown>[] {
  const value = context[key];
  return Array.isArray(value)
    ? value.filter(
        (x): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x),
      )
    : [];
}

/** A field as text for comparisons (numbers and strings; anything else matches nothing). */
export function textField(item: Record<string, unknown>, key: string): string {
  const value = item[key];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

export function byId(
  items: Record<string, unknown>[],
  recordId: string,
): Record<string, unknown> | undefined {
  return items.find((item) => textField(item, 'id') === recordId);
}

/** At most 50 items, and says when the client sent more. */
export function listed(items: Record<string, unknown>[], note?: string): ToolOutcome {
  return {
    result: {
      count: items.length,
      items: items.slice(0, MAX_ITEMS),
      ...(items.length > MAX_ITEMS ? { truncated: true } : {}),
      ...(note ? { note } : {}),
    },
  };
}

export const notInContext = (what: string, recordId: string): ToolOutcome => ({
  result: { error: `No ${what} with id ${recordId} in the context the app sent` },
});

export const sameId = (item: Record<string, unknown>, key: string, value: string | undefined) =>
  value === undefined || textField(item, key) === value;
