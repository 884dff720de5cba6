import {
  type AIMessage,
  type BaseMessage,
  SystemMessage,
  ToolMessage,
  type ToolCall,
} from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import type { ChatModel, ChatModelRole } from '../../common/llm/chat-model.js';
import type { Caller, ChatContext, PlanAction, TokenSink } from './agent.types.js';
import { toolConfig } from './agent-tools.js';
import { TOOL_CAP_NOTE } from './plans/prompt-templates.js';
import { AppException } from '../../common/errors/app.exception.js';
import { textOf } from './message-text.js';

/** Model calls with tools per agent turn; after them the agent answers without tools. */
export const MAX_TOOL_CALLS = 5;

export interface ToolLoopOptions {
  llm: ChatModel;
  tools: StructuredToolInterface[];
  context: ChatContext;
  caller: Caller;
  role?: ChatModelRole;
  onToken?: TokenSink;
}

/**
 * The one tool-calling loop every ChatAgent shares: up to MAX_TOOL_CALLS
 * model calls with tools, the tool calls of one answer run in parallel, every
 * call and result stays in `messages` so the model sees its own history; then,
 * if the model still wants tools, one last call without them. Invalid
 * arguments, unknown tools and tool failures go back to the model as tool
 * errors. Returns the answer and the actions in call order.
 */
export async function runToolLoop(
  messages: BaseMessage[],
  options: ToolLoopOptions,
): Promise<{ response: string; actions: PlanAction[] }> {
  const actions: PlanAction[] = [];
  for (let call = 0; call < MAX_TOOL_CALLS; call++) {
    let answer: AIMessage;
    try {
      answer = await complete(messages, options, options.tools);
    } catch (err) {
      // The budget ran out mid-turn: stop cleanly with what the turn has (the first call's 402 stands).
      if (call > 0 && isSpendLimit(err)) return budgetStop(err, actions, options);
      throw err;
    }
    const calls = toolCallsOf(answer);
    if (calls.length === 0) return { response: textOf(answer), actions };
    messages.push(withCallIds(answer, calls));
    const results = await Promise.all(calls.map((c) => runTool(c, options)));
    for (const result of results) {
      messages.push(result.message);
      actions.push(...result.actions);
    }
  }
  messages.push(new SystemMessage(TOOL_CAP_NOTE));
  try {
    const final = await complete(messages, options, []);
    return { response: textOf(final), actions };
  } catch (err) {
    if (isSpendLimit(err)) return budgetStop(err, actions, options);
    throw err;
  }
}

const isSpendLimit = (err: unknown): err is AppException =>
  err instanceof AppException && err.appCode === 'spend_limit_reached';

/** The turn's answer when the budget stops it: the proposed changes so far and why it stopped. */
function budgetStop(
  err: AppException,
  actions: PlanAction[],
  options: ToolLoopOptions,
): { response: string; actions: PlanAction[] } {
  const resets = new Date(Number(err.extra.resets_at)).toISOString();
  const response =
    `I had to stop before finishing: today's model budget is used up (it resets at ${resets}).` +
    (actions.length ? ' The changes proposed so far are included.' : '');
  options.onToken?.(response);
  return { response, actions };
}

async function complete(
  messages: BaseMessage[],
  options: ToolLoopOptions,
  tools: StructuredToolInterface[],
): Promise<AIMessage> {
  const callOptions = {
    role: options.role ?? 'agent',
    tools,
    signal: options.caller.signal,
    userId: options.caller.userId,
    tier: options.caller.tier,
    model: options.caller.model,
  } as const;
  if (!options.onToken) return options.llm.invoke(messages, callOptions);
  let message: AIMessage | undefined;
  for await (const event of options.llm.stream(messages, callOptions)) {
    if (event.type === 'token') options.onToken(event.text);
    else message = event.message;
  }
  return message!;
}

interface PendingCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
  /** Arguments that were not valid JSON: answered with an error without running the tool. */
  malformed?: string;
}

/** Valid and malformed (unparseable JSON) calls alike: each needs a tool message in reply. */
function toolCallsOf(message: AIMessage): PendingCall[] {
  const valid = (message.tool_calls ?? []).map((c, i) => ({
    id: c.id ?? `call_${i}`,
    name: c.name,
    args: c.args,
  }));
  const invalid = (message.invalid_tool_calls ?? []).map((c, i) => ({
    id: c.id ?? `call_invalid_${i}`,
    name: c.name ?? 'unknown',
    args: {},
    malformed: c.error ?? 'arguments are not valid JSON',
  }));
  // LangChain splits parsed and unparseable calls; the model's own order is in the raw calls.
  const raw = (message.additional_kwargs?.tool_calls ?? []) as Array<{ id?: string }>;
  const order = new Map(raw.map((c, i) => [c.id, i]));
  return [...valid, ...invalid].sort(
    (a, b) => (order.get(a.id) ?? Number.MAX_SAFE_INTEGER) - (order.get(b.id) ?? Number.MAX_SAFE_INTEGER),
  );
}

/** The assistant message as sent back, with every call (a malformed one with empty arguments). */
function withCallIds(message: AIMessage, calls: PendingCall[]): AIMessage {
  if (!message.invalid_tool_calls?.length) return message;
  message.tool_calls = calls.map((c) => ({ id: c.id, name: c.name, args: c.args, type: 'tool_call' }));
  message.invalid_tool_calls = [];
  return message;
}

async function runTool(
  call: PendingCall,
  options: ToolLoopOptions,
): Promise<{ message: ToolMessage; actions: PlanAction[] }> {
  const fail = (error: string) => ({
    message: new ToolMessage({ tool_call_id: call.id, name: call.name, status: 'error', content: error }),
    actions: [],
  });
  if (call.malformed) return fail(`Error: the arguments of ${call.name} were not valid JSON; call it again.`);
  const target = options.tools.find((t) => t.name === call.name);
  if (!target) {
    return fail(
      `Error: there is no tool ${call.name}. Tools: ${options.tools.map((t) => t.name).join(', ')}.`,
    );
  }
  const toolCall: ToolCall = { id: call.id, name: call.name, args: call.args, type: 'tool_call' };
  try {
    const message = (await target.invoke(toolCall, toolConfig(options.context))) as ToolMessage;
    const artifact: unknown = message.artifact;
    return { message, actions: Array.isArray(artifact) ? (artifact as PlanAction[]) : [] };
  } catch (err) {
    // A schema violation (ToolInputParsingException) or a failing tool: the model gets to fix its call.
    const reason = err instanceof Error ? err.message : String(err);
    return fail(`Error: invalid arguments for ${call.name}: ${reason}. Fix the arguments and call it again.`);
  }
}
