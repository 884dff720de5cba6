import type { Tier } from '../../common/tiers/tiers.js';

export const PLAN_ACTION_TYPES = [
  'create_record',
  'update_record',
  'delete_record',
  'index_document',
  'send_notification',
  'call_agent',
] as const;
export type PlanActionType = (typeof PLAN_ACTION_TYPES)[number];

/** Tables of the desktop app that agents may propose changes to. */
export const ACTION_TABLES = ['tasks', 'task_comments', 'projects', 'checkpoints', 'notes'] as const;
export type ActionTable = (typeof ACTION_TABLES)[number];

/** A change for the desktop app to apply locally; the server never applies it. */
export interface PlanAction {
  type: PlanActionType;
  table: ActionTable | null;
  data: Record<string, unknown> | null;
  agent: string | null;
}

/** What an agent found and proposed in one turn, handed to the next agent of a pipeline. */
export interface PreviousResult {
  agent: string;
  response: string;
  actions: PlanAction[];
}

/**
 * What the client sends with a message (from local or cloud storage on its
 * side): read tools answer from it. Used for this request only.
 */
export interface ChatContext {
  user_profile?: Record<string, unknown>;
  relevant_documents?: string[];
  recent_tasks?: Record<string, unknown>[];
  conversation_history?: Record<string, unknown>[];
  projects?: Record<string, unknown>[];
  notes?: Record<string, unknown>[];
  checkpoints?: Record<string, unknown>[];
  task_comments?: Record<string, unknown>[];
  previous_results?: PreviousResult[];
  [key: string]: unknown;
}

/** Who asks, for this turn: tier decides the agents, the signal cancels the model calls. */
export interface Caller {
  userId: string;
  tier: Tier;
  signal?: AbortSignal;
  /** The model the client chose for the agents' calls (`provider:model`, already allowed); none: LLM_MODEL. */
  model?: string;
}

export interface AgentResult {
  response: string;
  actions: PlanAction[];
}

/** Streaming turns report each token of the answer as the model produces it. */
export type TokenSink = (text: string) => void;
