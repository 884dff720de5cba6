import { Injectable } from '@nestjs/common';
import { ChatModel } from '../../common/llm/chat-model.js';
import type { AgentResult, Caller, ChatContext, PlanAction, TokenSink } from './agent.types.js';
import { AgentRegistry } from './agent-registry.service.js';
import type { ExecutionPlan } from './plans/execution-plan.js';
import { PlansService } from './plans/plans.service.js';
import { PromptTemplates, ROUTER_PROMPT, SYNTHESIS_PROMPT } from './plans/prompt-templates.js';
import { parseRouterAnswer } from './router-answer.js';
import { textOf } from './message-text.js';

export type ExecutionMode = 'direct' | 'plan';

export interface OrchestrateRequest {
  message: string;
  context?: ChatContext;
  execution_mode?: ExecutionMode;
}

/** A direct-mode answer: `agent` names the agent, or the pipeline's agents joined by commas. */
export interface ChatResult {
  response: string;
  actions: PlanAction[];
  agent: string;
}

export type OrchestratorEvent = { type: 'token'; text: string } | { type: 'done'; result: ChatResult };

/**
 * Routes a message: one router-model call picks the agent (or a pipeline of
 * agents) among those the caller's tier may use, then the agents run (direct
 * mode) or a plan of template ids comes back (plan mode).
 */
@Injectable()
export class OrchestratorService {
  constructor(
    private readonly llm: ChatModel,
    private readonly registry: AgentRegistry,
    private readonly plans: PlansService,
    private readonly templates: PromptTemplates,
  ) {}

  /** The agents to run, in order; anything unclear or not allowed for the tier → [task_agent]. */
  async classifyIntent(message: string, caller: Caller): Promise<string[]> {
    const allowed = this.registry.allowed(caller.tier);
    const agents = allowed.map((a) => `${a.name}: ${a.description}`).join('\n');
    const { HumanMessage, SystemMessage } = await import('@langchain/core/messages');
    const answer = await this.llm.invoke(
      [
        new SystemMessage(this.templates.system(ROUTER_PROMPT.replace('{{agents}}', agents))),
        new HumanMessage(message),
      ],
      { role: 'router', signal: caller.signal, userId: caller.userId, tier: caller.tier },
    );
    return parseRouterAnswer(
      textOf(answer),
      allowed.map((a) => a.name),
    );
  }

  async routeSingle(
    name: string,
    message: string,
    context: ChatContext,
    caller: Caller,
    onToken?: TokenSink,
  ): Promise<ChatResult> {
    const result = await this.registry.callAgent(name, message, context, caller, onToken);
    return { ...result, agent: name };
  }

  /** Agents in order, each seeing the earlier ones' `previous_results`; then one synthesis call. */
  async routePipeline(
    names: string[],
    message: string,
    context: ChatContext,
    caller: Caller,
    onToken?: TokenSink,
  ): Promise<ChatResult> {
    const results: Array<AgentResult & { agent: string }> = [];
    for (const name of names) {
      const previous_results = results.map((r) => ({
        agent: r.agent,
        response: r.response,
        actions: r.actions,
      }));
      const result = await this.registry.callAgent(name, message, { ...context, previous_results }, caller);
      results.push({ ...result, agent: name });
    }
    const response = await this.synthesise(message, results, caller, onToken);
    return { response, actions: results.flatMap((r) => r.actions), agent: names.join(',') };
  }

  /** One answer from the agents' results, streamed token by token when `onToken` is given. */
  private async synthesise(
    message: string,
    results: Array<AgentResult & { agent: string }>,
    caller: Caller,
    onToken?: TokenSink,
  ): Promise<string> {
    const { HumanMessage, SystemMessage } = await import('@langchain/core/messages');
    const synthesis = [
      new SystemMessage(this.templates.system(SYNTHESIS_PROMPT)),
      new HumanMessage(
        `User request:\n${message}\n\nResults:\n` +
          results
            .map((r, i) => `${i + 1}. ${r.agent}: ${r.response}\nProposed: ${JSON.stringify(r.actions)}`)
            .join('\n\n'),
      ),
    ];
    const options = {
      role: 'agent',
      signal: caller.signal,
      userId: caller.userId,
      tier: caller.tier,
      model: caller.model,
    } as const;
    if (!onToken) return textOf(await this.llm.invoke(synthesis, options));
    let response = '';
    for await (const event of this.llm.stream(synthesis, options)) {
      if (event.type === 'token') onToken(event.text);
      else response = textOf(event.message);
    }
    return response;
  }

  async orchestrate(request: OrchestrateRequest, caller: Caller): Promise<ChatResult | ExecutionPlan> {
    const names = await this.classifyIntent(request.message, caller);
    if (request.execution_mode === 'plan') {
      return this.plans.planForRoute(names.map((name) => this.registry.getOrThrow(name, caller.tier)));
    }
    return this.run(names, request, caller);
  }

  /** Direct mode, streamed: each token as the model produces it, then the complete result. */
  async *orchestrateStream(request: OrchestrateRequest, caller: Caller): AsyncGenerator<OrchestratorEvent> {
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    let finished: { result?: ChatResult; error?: unknown } | undefined;
    const onToken = (text: string) => {
      queue.push(text);
      wake?.();
    };
    void this.classifyIntent(request.message, caller)
      .then((names) => this.run(names, request, caller, onToken))
      .then(
        (result) => (finished = { result }),
        (error: unknown) => (finished = { error }),
      )
      .finally(() => wake?.());
    for (;;) {
      while (queue.length > 0) yield { type: 'token', text: queue.shift()! };
      if (finished) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    while (queue.length > 0) yield { type: 'token', text: queue.shift()! };
    if (finished.error !== undefined) {
      throw finished.error instanceof Error ? finished.error : new Error('orchestration failed');
    }
    yield { type: 'done', result: finished.result! };
  }

  private run(names: string[], request: OrchestrateRequest, caller: Caller, onToken?: TokenSink) {
    const context = request.context ?? {};
    return names.length === 1
      ? this.routeSingle(names[0], request.message, context, caller, onToken)
      : this.routePipeline(names, request.message, context, caller, onToken);
  }
}
