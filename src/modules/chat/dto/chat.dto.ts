import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateBy } from 'class-validator';
import type { ChatContext } from '../../agents/index.js';
import type { ExecutionMode } from '../../agents/index.js';
import { PlanActionDto } from '../../agents/index.js';
import { CHAT_PROVIDERS, type ChatProvider } from '../../../config/model-ref.js';

export const MAX_MESSAGE_CHARS = 16_000;
export const MAX_CONTEXT_BYTES = 256 * 1024;
/**
 * The largest valid chat event on a socket (a Socket.IO packet, a WebSocket
 * frame): the context's JSON, the message with every character at its longest
 * JSON escape (6 bytes, `\u001f`), and 4 KiB for the request id, the other
 * fields and the framing. Anything bigger cannot be valid, so the transports
 * refuse it before parsing it.
 */
export const MAX_CHAT_EVENT_BYTES = MAX_CONTEXT_BYTES + 6 * MAX_MESSAGE_CHARS + 4 * 1024;

const LIST_FIELDS = [
  'relevant_documents',
  'recent_tasks',
  'conversation_history',
  'projects',
  'notes',
  'checkpoints',
  'task_comments',
] as const;

/** Why a context is refused, or undefined when it is acceptable. */
export function contextProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'context must be an object';
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > MAX_CONTEXT_BYTES) {
    return `context must be at most ${MAX_CONTEXT_BYTES} bytes of JSON (256 KiB); it has ${bytes}`;
  }
  const context = value as Record<string, unknown>;
  const profile = context.user_profile;
  if (profile !== undefined && (typeof profile !== 'object' || profile === null || Array.isArray(profile))) {
    return 'context.user_profile must be an object';
  }
  for (const field of LIST_FIELDS) {
    const list = context[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return `context.${field} must be an array`;
    const ok =
      field === 'relevant_documents'
        ? list.every((x) => typeof x === 'string')
        : list.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
    if (!ok)
      return `context.${field} must be an array of ${field === 'relevant_documents' ? 'strings' : 'objects'}`;
  }
  if (context.previous_results !== undefined) return 'context.previous_results is set by the server only';
  return undefined;
}

function IsChatContext(): PropertyDecorator {
  return ValidateBy({
    name: 'isChatContext',
    validator: {
      validate: (value: unknown) => contextProblem(value) === undefined,
      defaultMessage: (args) => contextProblem(args?.value) ?? 'context is invalid',
    },
  });
}

export class ChatContextDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  user_profile?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: [String],
    description: 'Passages the app found relevant (e.g. by vector search)',
  })
  relevant_documents?: string[];

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description:
      'Tasks (id, title, description, status, priority, due_date, project_id, …): read by task tools',
  })
  recent_tasks?: Record<string, unknown>[];

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Earlier turns {role: "user"|"assistant", content}; the last 20 are used',
  })
  conversation_history?: Record<string, unknown>[];

  @ApiPropertyOptional({ type: 'array', items: { type: 'object', additionalProperties: true } })
  projects?: Record<string, unknown>[];

  @ApiPropertyOptional({ type: 'array', items: { type: 'object', additionalProperties: true } })
  notes?: Record<string, unknown>[];

  @ApiPropertyOptional({ type: 'array', items: { type: 'object', additionalProperties: true } })
  checkpoints?: Record<string, unknown>[];

  @ApiPropertyOptional({ type: 'array', items: { type: 'object', additionalProperties: true } })
  task_comments?: Record<string, unknown>[];
}

export class ChatRequestDto {
  @ApiProperty({
    minLength: 1,
    maxLength: MAX_MESSAGE_CHARS,
    example: 'Add a task to send the invoice by Friday',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_MESSAGE_CHARS)
  message!: string;

  @ApiPropertyOptional({
    type: ChatContextDto,
    description:
      'What the app knows that the agents may read: at most 256 KiB of JSON. Used for this request only, ' +
      'never stored or logged. Other fields are kept and ignored.',
  })
  @IsOptional()
  @IsChatContext()
  context?: ChatContext;

  @ApiPropertyOptional({ enum: ['direct', 'plan'], default: 'direct' })
  @IsOptional()
  @IsIn(['direct', 'plan'])
  execution_mode?: ExecutionMode;

  @ApiPropertyOptional({
    maxLength: 200,
    description:
      "The model the agents answer with, one of GET /chat/models (`provider:model`; a bare name is OpenAI's). " +
      "Absent: the operator's default. The free tier may use only the default (another answers 403 " +
      "tier_required); a model not in the list answers 400. Routing and plan mode keep the operator's models.",
    example: 'anthropic:claude-sonnet-4-5',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;
}

/** A client's id for one stream: what `cancel` names and what a repeated start attaches to. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export class ChatStreamRequestDto extends ChatRequestDto {
  @ApiPropertyOptional({
    enum: ['direct'],
    default: 'direct',
    description: 'Only direct: a plan is answered whole, by POST /chat',
  })
  @IsOptional()
  @IsIn(['direct'], {
    message: 'execution_mode plan is answered whole, not streamed: send it to POST /api/v1/chat',
  })
  declare execution_mode?: 'direct';

  @ApiPropertyOptional({
    pattern: REQUEST_ID_PATTERN.source,
    description:
      'Your id for this stream (1-128 of A-Z a-z 0-9 . _ : -), a UUID if omitted. A request naming a ' +
      'request_id that is still streaming for you attaches to that stream (from its first chunk) instead ' +
      'of starting a second model call.',
    example: 'c0ffee-42',
  })
  @IsOptional()
  @IsString()
  @Matches(REQUEST_ID_PATTERN, { message: 'request_id must be 1-128 characters of A-Z a-z 0-9 . _ : -' })
  request_id?: string;
}

export class ChatResponseDto {
  @ApiProperty({ example: 'I added the task "Send the invoice" due Friday.' })
  response!: string;

  @ApiProperty({ type: [PlanActionDto], description: 'Changes for the app to apply, in order' })
  actions!: PlanActionDto[];

  @ApiProperty({
    description: 'The agent that answered, or a pipeline joined by commas',
    example: 'task_agent',
  })
  agent!: string;
}

export class StreamRequestIdParam {
  @ApiProperty({ pattern: REQUEST_ID_PATTERN.source, example: 'c0ffee-42' })
  @Matches(REQUEST_ID_PATTERN, { message: 'request_id must be 1-128 characters of A-Z a-z 0-9 . _ : -' })
  request_id!: string;
}

export class ChatStreamSummaryDto {
  @ApiProperty({ example: 'c0ffee-42' })
  request_id!: string;

  @ApiProperty({
    enum: ['running', 'done', 'cancelled', 'error'],
    description:
      'running (also while nobody follows it, in its grace period), done, cancelled (a cancel, or nobody ' +
      'resumed it in time) or error',
  })
  state!: 'running' | 'done' | 'cancelled' | 'error';

  @ApiProperty({ description: 'The seq of its last event so far; -1 before the first', example: 41 })
  last_seq!: number;

  @ApiProperty({ description: 'When it started (ms)', example: 1767225600000 })
  started_at!: number;
}

export class ChatStreamListDto {
  @ApiProperty({ type: [ChatStreamSummaryDto], description: 'Newest first' })
  streams!: ChatStreamSummaryDto[];
}

export class ChatModelDto {
  @ApiProperty({ description: 'What ChatRequest.model takes', example: 'anthropic:claude-sonnet-4-5' })
  id!: string;

  @ApiProperty({ enum: CHAT_PROVIDERS, example: 'anthropic' })
  provider!: ChatProvider;

  @ApiProperty({ description: "The provider's name for it", example: 'claude-sonnet-4-5' })
  model!: string;

  @ApiProperty({ description: "The operator's default (LLM_MODEL), used when a request names none" })
  default!: boolean;

  @ApiProperty({ description: 'Whether your tier may choose it (free: the default only)' })
  available!: boolean;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Input tokens it takes at most, when LangChain knows the model',
    example: 200000,
  })
  context_window!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'USD per million input tokens', example: 3 })
  input_usd_per_million_tokens!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'USD per million output tokens', example: 15 })
  output_usd_per_million_tokens!: number | null;
}

export class ChatModelListDto {
  @ApiProperty({ description: 'The id of the default model', example: 'openai:gpt-4o' })
  default!: string;

  @ApiProperty({ type: [ChatModelDto], description: 'The models a request may name, the default first' })
  models!: ChatModelDto[];
}
