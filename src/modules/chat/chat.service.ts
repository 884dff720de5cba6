import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AppException } from '../../common/errors/app.exception.js';
import type { ExecutionPlan } from '../agents/index.js';
import { type ChatResult, OrchestratorService } from '../agents/index.js';
import type { ChatRequestDto } from './dto/chat.dto.js';
import { ChatModelsService } from './chat-models.service.js';
import { SanitizerService } from './sanitizer.service.js';

/**
 * Chat: the caller's message goes to the orchestrator with the tier read on
 * this request. The message and context live for this call only: nothing here
 * stores or logs them.
 */
@Injectable()
export class ChatService {
  constructor(
    private readonly orchestrator: OrchestratorService,
    private readonly sanitizer: SanitizerService,
    private readonly models: ChatModelsService,
  ) {}

  /**
   * The answer (or plan), with every string the model wrote passed through the
   * sanitizer; an error's message and fields pass it too.
   */
  async chat(user: AuthUser, dto: ChatRequestDto, signal: AbortSignal): Promise<ChatResult | ExecutionPlan> {
    const model = this.models.chosenOrThrow(user.tier, dto.model);
    let answer: ChatResult | ExecutionPlan;
    try {
      answer = await this.orchestrator.orchestrate(
        { message: dto.message, context: dto.context, execution_mode: dto.execution_mode ?? 'direct' },
        { userId: user.id, tier: user.tier, signal, model },
      );
    } catch (err) {
      throw this.sanitizedError(err);
    }
    return this.sanitizer.sanitizeDeep(answer);
  }

  /** An AppException with its message and extra fields sanitized (anything else becomes a bare 500 anyway). */
  private sanitizedError(err: unknown): unknown {
    if (!(err instanceof AppException)) return err;
    const { message } = err.getResponse() as { message: string | string[] };
    const clean = this.sanitizer.sanitizeDeep({ message, extra: err.extra }, 'error');
    if (clean.message === message && JSON.stringify(clean.extra) === JSON.stringify(err.extra)) return err;
    return new AppException(err.appCode, clean.message, clean.extra, { cause: err });
  }
}
