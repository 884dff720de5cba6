import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import type { ExecutionPlan } from '../agents/index.js';
import { type ChatResult, OrchestratorService } from '../agents/index.js';
import type { ChatRequestDto } from './dto/chat.dto.js';
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
  ) {}

  /** The answer (or plan), with every string the model wrote passed through the sanitizer. */
  async chat(user: AuthUser, dto: ChatRequestDto, signal: AbortSignal): Promise<ChatResult | ExecutionPlan> {
    const answer = await this.orchestrator.orchestrate(
      { message: dto.message, context: dto.context, execution_mode: dto.execution_mode ?? 'direct' },
      { userId: user.id, tier: user.tier, signal },
    );
    return this.sanitizer.sanitizeDeep(answer);
  }
}
