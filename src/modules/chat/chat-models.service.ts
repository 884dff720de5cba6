import { Injectable } from '@nestjs/common';
import { AppException } from '../../common/errors/app.exception.js';
import { ChatModel } from '../../common/llm/chat-model.js';
import { FEATURES, type Tier, TIERS } from '../../common/tiers/tiers.js';
import { AppConfig } from '../../config/app-config.js';
import { type ModelRef, modelSpecProblem, parseModel } from '../../config/model-ref.js';
import { UsageService } from '../usage/index.js';
import type { ChatModelDto, ChatModelListDto } from './dto/chat.dto.js';

/** A tier whose feature matrix allows one provider uses the operator's default model only. */
const choosesModels = (tier: Tier) => FEATURES[tier].providers !== 1;

/**
 * The models a client may choose (LLM_MODELS_ALLOWED, the default first) and
 * the rule of who may choose: the feature matrix's `providers` (free: 1, the
 * operator's default; paid tiers: any of the list). Keys and endpoints never
 * leave the server.
 */
@Injectable()
export class ChatModelsService {
  constructor(
    private readonly config: AppConfig,
    private readonly llm: ChatModel,
    private readonly usage: UsageService,
  ) {}

  /**
   * The model id a request's `model` names, or undefined for the default: 400
   * `validation_failed` for one not in the list, 403 `tier_required` for one
   * the caller's tier may not choose.
   */
  chosenOrThrow(tier: Tier, requested: string | undefined): string | undefined {
    if (requested === undefined) return undefined;
    const { allowed, agent } = this.config.llm.models;
    const id = modelSpecProblem(requested) === undefined ? parseModel(requested).id : undefined;
    const model = allowed.find((m) => m.id === id);
    if (!model) {
      throw new AppException(
        'validation_failed',
        `model must be one of ${allowed.map((m) => m.id).join(', ')} (GET /api/v1/chat/models lists them)`,
      );
    }
    if (model.id !== agent.id && !choosesModels(tier)) {
      const needed = TIERS.find(choosesModels)!;
      throw new AppException(
        'tier_required',
        `Choosing a model requires the ${needed} tier or higher; your tier (${tier}) uses the default, ` +
          `${agent.id}. Upgrade with POST /api/v1/billing/checkout.`,
        { required_tier: needed },
      );
    }
    return model.id;
  }

  async list(tier: Tier): Promise<ChatModelListDto> {
    const { allowed, agent } = this.config.llm.models;
    const models = await Promise.all(allowed.map((m) => this.describe(m, m.id === agent.id, tier)));
    return { default: agent.id, models };
  }

  private async describe(model: ModelRef, isDefault: boolean, tier: Tier): Promise<ChatModelDto> {
    const price = this.usage.pricePerMillion(model.id);
    return {
      id: model.id,
      provider: model.provider,
      model: model.name,
      default: isDefault,
      available: isDefault || choosesModels(tier),
      context_window: (await this.llm.contextWindow(model.id)) ?? null,
      input_usd_per_million_tokens: price?.[0] ?? null,
      output_usd_per_million_tokens: price?.[1] ?? null,
    };
  }
}
