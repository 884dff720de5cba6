import { HttpException, Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AppException } from '../../common/errors/app.exception.js';
import { codeForStatus, type ErrorCode } from '../../common/errors/error-codes.js';
import { ChatModel } from '../../common/llm/chat-model.js';
import { llmNotConfigured } from '../../common/llm/llm.errors.js';
import { classifyOutage, OUTAGE_RETRY_AFTER_S } from '../../common/outage/outage.js';
import { OrchestratorService } from '../agents/index.js';
import { UsageService } from '../usage/index.js';
import type { ChatRequestDto } from './dto/chat.dto.js';
import { ChatModelsService } from './chat-models.service.js';
import { SanitizerService } from './sanitizer.service.js';

/**
 * One event of a chat stream, the same on every transport. Every event has a
 * `seq` (0, 1, 2… per request id, the last one `done` or `error`): what a
 * resume names to get the events after it.
 */
export type ChatStreamEvent =
  | { event: 'chunk'; data: { seq: number; text: string } }
  | { event: 'done'; data: { seq: number; done: true; response: string; actions: unknown[]; agent: string } }
  | { event: 'error'; data: StreamError & { seq: number } };

/** A stream's error: the code and message, and the fields a client can act on (resets_at, retry_after). */
export type StreamError = { code: ErrorCode; message: string | string[] } & Record<string, unknown>;

/**
 * A chat answer as a stream of events: each model token (sanitized, in
 * order), then `done` with the whole sanitized answer, or `error`; all
 * numbered from 0. This is the one place every transport's events come from
 * (SSE, Socket.IO, the plain WebSocket, and the stream log a resume replays),
 * so every string of every event passes the sanitizer here: chunks, the
 * response, each action's data (a tool argument is model output too), the
 * agent and the error. Aborting `signal` (a cancel, nobody resumed) aborts the model call.
 * Nothing of the message, context or answer is stored or logged.
 */
@Injectable()
export class ChatStreamService {
  private readonly logger = new Logger('ChatStream');

  constructor(
    private readonly orchestrator: OrchestratorService,
    private readonly sanitizer: SanitizerService,
    private readonly llm: ChatModel,
    private readonly usage: UsageService,
    private readonly models: ChatModelsService,
  ) {}

  /** Refusals a client gets as a plain HTTP error, before any stream starts. */
  async assertCanStream(user: AuthUser, dto: ChatRequestDto): Promise<void> {
    if (dto.execution_mode === 'plan') {
      throw new AppException(
        'validation_failed',
        'execution_mode plan is answered whole, not streamed: send it to POST /api/v1/chat',
      );
    }
    this.models.chosenOrThrow(user.tier, dto.model);
    if (!this.llm.configured) throw llmNotConfigured();
    await this.usage.assertBudgetLeft(user);
  }

  async *run(user: AuthUser, dto: ChatRequestDto, signal: AbortSignal): AsyncGenerator<ChatStreamEvent> {
    const stream = this.sanitizer.stream();
    let seq = 0;
    try {
      // Checked before the stream started (assertCanStream): this only maps it to its id.
      const model = this.models.chosenOrThrow(user.tier, dto.model);
      for await (const e of this.orchestrator.orchestrateStream(
        { message: dto.message, context: dto.context, execution_mode: 'direct' },
        { userId: user.id, tier: user.tier, signal, model },
      )) {
        if (e.type === 'token') {
          const text = stream.push(e.text);
          if (text) yield { event: 'chunk', data: { seq: seq++, text } };
        } else {
          const rest = stream.end();
          if (rest) yield { event: 'chunk', data: { seq: seq++, text: rest } };
          const { response, actions, agent } = this.sanitizer.sanitizeDeep(
            { response: e.result.response, actions: e.result.actions, agent: e.result.agent },
            'stream result',
          );
          yield { event: 'done', data: { seq: seq++, done: true, response, actions, agent } };
        }
      }
    } catch (err) {
      const error = this.sanitizer.sanitizeDeep(describeError(err, this.logger), 'stream error');
      yield { event: 'error', data: { ...error, seq } };
    } finally {
      this.sanitizer.report(stream.counts, 'stream');
    }
  }
}

/** The code and message a client sees; anything unexpected is logged and answered internal_error. */
export function describeError(err: unknown, logger: Logger): StreamError {
  if (err instanceof AppException) {
    // A validation failure's message is the list of problems, as in a REST body.
    const { message } = err.getResponse() as { message: string | string[] };
    return { ...err.extra, code: err.appCode, message };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    if (status < 500) return { code: codeForStatus(status), message: err.message };
  }
  const dependency = classifyOutage(err);
  if (dependency === 'database') {
    return {
      code: 'database_unavailable',
      message: 'The database is unreachable; retry in a few seconds',
      retry_after: OUTAGE_RETRY_AFTER_S,
    };
  }
  const error = err instanceof Error ? err : new Error(String(err));
  logger.error(`chat stream failed: ${error.message}`, error.stack);
  return { code: 'internal_error', message: 'Internal server error' };
}
