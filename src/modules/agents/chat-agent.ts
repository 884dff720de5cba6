import { Inject } from '@nestjs/common';
import { AIMessage, type BaseMessage, HumanMessage, SystemMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { ChatModel } from '../../common/llm/chat-model.js';
import type { Tier } from '../../common/tiers/tiers.js';
import type { AgentResult, Caller, ChatContext, TokenSink } from './agent.types.js';
import { PromptTemplates, type TemplateId } from './plans/prompt-templates.js';
import { runToolLoop } from './tool-loop.js';

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
  abstract readonly tools: StructuredToolInterface[];
  /** The cheapest tier that may use the agent. */
  readonly minTier: Tier = 'free';

  @Inject(ChatModel) protected readonly llm!: ChatModel;
  @Inject(PromptTemplates) protected readonly templates!: PromptTemplates;

  get toolNames(): string[] {
    return this.tools.map((t) => t.name);
  }

  /** One agent turn: the message, with the context its read tools answer from. */
  handle(query: string, context: ChatContext, caller: Caller, onToken?: TokenSink): Promise<AgentResult> {
    return runToolLoop(this.messages(query, context), {
      llm: this.llm,
      tools: this.tools,
      context,
      caller,
      onToken,
    }).then(({ response, actions }) => ({
      response,
      actions: actions.map((a) => ({ ...a, agent: this.name })),
    }));
  }

  protected messages(query: string, context: ChatContext): BaseMessage[] {
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
      ...history(context),
      new HumanMessage(query),
    ];
  }
}

/** Only user and assistant turns with text: a client cannot smuggle in a system message. */
function history(context: ChatContext): BaseMessage[] {
  const turns = Array.isArray(context.conversation_history) ? context.conversation_history : [];
  return turns.slice(-HISTORY_TURNS).flatMap((turn): BaseMessage[] => {
    const content = turn?.content;
    if (typeof content !== 'string' || content.length === 0) return [];
    if (turn.role === 'user') return [new HumanMessage(content)];
    if (turn.role === 'assistant') return [new AIMessage(content)];
    return [];
  });
}
