import { Inject } from '@nestjs/common';
import type { BaseMessage } from '@langchain/core/messages';
import { ChatModel } from '../../common/llm/chat-model.js';
import type { Tier } from '../../common/tiers/tiers.js';
import type { AgentResult, Caller, ChatContext, TokenSink } from './agent.types.js';
import { type AgentTool, langChainTools } from './agent-tools.js';
import { PromptTemplates, type TemplateId } from './plans/prompt-templates.js';

/** Earlier turns the model sees (the client's conversation_history, newest last). */
const HISTORY_TURNS = 20;
const MAX_DOCUMENTS = 20;

/**
 * An agent the orchestrator can route to: a name, a description the router
 * reads, LangChain tools with zod schemas, and the system prompt behind
 * `templateId`. Every agent runs the same tool loop; subclasses only declare.
 */
export abstract class ChatAgent {
  abstract readonly name: string;
  abstract readonly description: string;
  abstract readonly templateId: TemplateId;
  abstract readonly tools: readonly AgentTool[];
  /** The cheapest tier that may use the agent. */
  readonly minTier: Tier = 'free';

  @Inject(ChatModel) protected readonly llm!: ChatModel;
  @Inject(PromptTemplates) protected readonly templates!: PromptTemplates;

  get toolNames(): string[] {
    return this.tools.map((t) => t.name);
  }

  /**
   * One agent turn: the message, with the context its read tools answer from. LangChain and the
   * tool loop are loaded by the first turn (`import()` answers from the module cache after it).
   */
  async handle(
    query: string,
    context: ChatContext,
    caller: Caller,
    onToken?: TokenSink,
  ): Promise<AgentResult> {
    const [{ runToolLoop }, tools, messages] = await Promise.all([
      import('./tool-loop.js'),
      langChainTools(this.tools),
      this.messages(query, context),
    ]);
    const { response, actions } = await runToolLoop(messages, {
      llm: this.llm,
      tools,
      context,
      caller,
      onToken,
    });
    return { response, actions: actions.map((a) => ({ ...a, agent: this.name })) };
  }

  protected async messages(query: string, context: ChatContext): Promise<BaseMessage[]> {
    const { AIMessage, HumanMessage, SystemMessage } = await import('@langchain/core/messages');
    const system = [this.templates.text(this.templateId), `Now: ${new Date().toISOString()}.`];
    const profile = context.user_profile;
    if (profile && typeof profile === 'object') system.push(`User profile: ${JSON.stringify(profile)}`);
    const documents = (context.relevant_documents ?? []).filter((d) => typeof d === 'string');
    if (documents.length > 0) {
      system.push(`Documents the app found relevant:\n${documents.slice(0, MAX_DOCUMENTS).join('\n---\n')}`);
    }
    if (context.previous_results?.length) {
      system.push(`Results of the agents that ran before you: ${JSON.stringify(context.previous_results)}`);
    }
    return [
      new SystemMessage(this.templates.system(system.join('\n\n'))),
      ...history(context).map((turn) =>
        turn.role === 'user' ? new HumanMessage(turn.content) : new AIMessage(turn.content),
      ),
      new HumanMessage(query),
    ];
  }
}

/** Only user and assistant turns with text: a client cannot smuggle in a system message. */
function history(context: ChatContext): { role: 'user' | 'assistant'; content: string }[] {
  const turns = Array.isArray(context.conversation_history) ? context.conversation_history : [];
  return turns.slice(-HISTORY_TURNS).flatMap((turn) => {
    const content = turn?.content;
    if (typeof content !== 'string' || content.length === 0) return [];
    return turn.role === 'user' || turn.role === 'assistant' ? [{ role: turn.role, content }] : [];
  });
}
