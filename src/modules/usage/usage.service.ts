import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AppException } from '../../common/errors/app.exception.js';
import { ChatModel } from '../../common/llm/chat-model.js';
import { Embeddings } from '../../common/llm/embeddings.js';
import type { LlmMeter, MeteredCall, MeteredUsage, MeterReservation } from '../../common/llm/llm-meter.js';
import { AppMetrics } from '../../common/metrics/app-metrics.js';
import type { Tier } from '../../common/tiers/tiers.js';
import { AppConfig } from '../../config/app-config.js';
import { parseModel } from '../../config/model-ref.js';
import { AuditService } from '../audit/index.js';
import { AccountsService } from '../auth/index.js';
import type { UsageDayDto } from './dto/usage.dto.js';
import { MICRO, PriceTable, resetsAt, utcDay } from './pricing.js';
import { UsageEvents } from './usage.events.js';
import { type DayTotals, UsageRepository, type UserDayTotals } from './usage.repository.js';

/** Share of the daily budget that triggers the day's one alert. */
export const ALERT_SHARE = 0.8;

const usd = (micro: number) => micro / MICRO;

/**
 * Meters every model call of a user: before it, reserves its worst case
 * (prompt estimate + max output tokens at the model's prices) against the
 * day's budget of the user's tier, or refuses with 402 `spend_limit_reached`;
 * after it, records the call in the ledger with the provider's figures (or
 * an estimate, flagged) and gives back the rest; crossing 80 % sends the
 * day's one alert. Never sees any content.
 */
@Injectable()
export class UsageService implements LlmMeter, OnModuleInit {
  private readonly logger = new Logger('Usage');
  private readonly prices: PriceTable;

  constructor(
    private readonly repo: UsageRepository,
    private readonly audit: AuditService,
    private readonly accounts: AccountsService,
    private readonly events: UsageEvents,
    private readonly config: AppConfig,
    private readonly chatModel: ChatModel,
    private readonly embeddings: Embeddings,
    private readonly metrics: AppMetrics,
  ) {
    this.prices = new PriceTable(config.llm.prices);
  }

  onModuleInit(): void {
    if (!this.config.llm.metering) {
      this.logger.warn('USAGE_METERING is off: model calls are neither recorded nor held against budgets');
      return;
    }
    this.chatModel.useMeter(this);
    this.embeddings.useMeter(this);
    // The tokenizer is not loaded here: it holds ~170 MB and only calls recorded without the
    // provider's figures need it, so it starts with the first of those (src/common/llm/tokens.ts).
  }

  /** USD per million tokens [input, output] of a model (`provider:model` or a bare OpenAI name), if priced. */
  pricePerMillion(model: string): [number, number] | undefined {
    return this.prices.perMillion(model);
  }

  budgetMicroUsd(tier: Tier): number {
    return Math.round(this.config.llm.dailyBudgetUsd[tier] * MICRO);
  }

  async reserve(call: MeteredCall): Promise<MeterReservation> {
    const day = utcDay();
    const tier = call.tier;
    const budget = this.budgetMicroUsd(tier);
    const held = this.prices.costMicroUsd(call.model, call.promptTokens, call.maxOutputTokens);
    if (!(await this.repo.reserve(call.userId, day, held, budget))) {
      this.metrics.countBudgetRefusal(tier);
      const left = Math.max(0, budget - (await this.repo.committed(call.userId, day)));
      throw spendLimit(
        tier,
        budget,
        day,
        `$${dollars(left)} is left and this call may cost up to $${dollars(held)}`,
      );
    }
    let open = true;
    return {
      settle: async (usage: MeteredUsage) => {
        if (!open) return;
        open = false;
        await this.settle(call, day, held, budget, usage);
      },
      release: async () => {
        if (!open) return;
        open = false;
        await this.repo
          .release(call.userId, day, held)
          .catch((err: Error) => this.logger.warn(`Reservation not released: ${err.message}`));
      },
    };
  }

  /**
   * 402 `spend_limit_reached` when today's budget is already spent or held: a stream asks before
   * its headers go out, so a client gets the plain 402 with `resets_at` rather than an error event.
   */
  async assertBudgetLeft(user: { id: string; tier: Tier }): Promise<void> {
    if (!this.config.llm.metering) return;
    const day = utcDay();
    const budget = this.budgetMicroUsd(user.tier);
    if ((await this.repo.committed(user.id, day)) >= budget) {
      this.metrics.countBudgetRefusal(user.tier);
      throw spendLimit(user.tier, budget, day);
    }
  }

  private async settle(
    call: MeteredCall,
    day: string,
    held: number,
    budget: number,
    usage: MeteredUsage,
  ): Promise<void> {
    const cost = this.prices.costMicroUsd(call.model, usage.promptTokens, usage.completionTokens);
    let spent: number;
    try {
      spent = await this.repo.settle(
        {
          userId: call.userId,
          day,
          model: call.model,
          kind: call.kind,
          promptTokens: usage.promptTokens,
          completionTokens: usage.completionTokens,
          costMicroUsd: cost,
          estimated: usage.estimated,
        },
        held,
      );
    } catch (err) {
      const error = err as Error;
      this.logger.error(`Usage not recorded for a ${call.model} call: ${error.message}`, error.stack);
      // Not recorded (the statement is atomic): at least stop holding its worst case.
      await this.repo.release(call.userId, day, held).catch(() => undefined);
      return;
    }
    const { provider, name } = parseModel(call.model);
    this.metrics.llmCost.inc({ provider, model: name, kind: call.kind }, cost);
    if (spent >= budget * ALERT_SHARE) await this.alert(call.userId, day, spent, budget);
  }

  /** The day's one 80 % alert: claimed once, audited, pushed; a failure is logged and the claim undone. */
  private async alert(userId: string, day: string, spent: number, budget: number): Promise<void> {
    try {
      if (!(await this.repo.claimAlert(userId, day))) return;
    } catch (err) {
      return void this.logger.warn(`Usage alert not checked: ${(err as Error).message}`);
    }
    const alert = { date: day, spent_usd: usd(spent), budget_usd: usd(budget) };
    try {
      await this.audit.record({ eventType: 'usage.alert', subjectId: userId, data: alert });
      this.events.emit('alert', userId, alert);
    } catch (err) {
      this.logger.warn(`Usage alert not sent (the next call retries): ${(err as Error).message}`);
      await this.repo.unclaimAlert(userId, day).catch(() => undefined);
    }
  }

  async today(user: AuthUser): Promise<UsageDayDto> {
    const day = utcDay();
    const [totals] = await this.repo.days(user.id, day, day);
    return this.dayDto(user.tier, totals ?? emptyDay(day));
  }

  /** One row per day, oldest first, the last `days` days up to today (days without calls as zeros). */
  async history(user: AuthUser, days: number): Promise<UsageDayDto[]> {
    const to = utcDay();
    const from = utcDay(new Date(Date.parse(`${to}T00:00:00Z`) - (days - 1) * 86_400_000));
    const rows = new Map((await this.repo.days(user.id, from, to)).map((r) => [r.day, r]));
    return Array.from({ length: days }, (_, i) => {
      const day = utcDay(new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000));
      return this.dayDto(user.tier, rows.get(day) ?? emptyDay(day));
    });
  }

  /** Every user's totals for one day, the biggest spenders first, with their emails. */
  async usersOn(day: string, limit: number): Promise<Array<UserDayTotals & { email: string }>> {
    const totals = await this.repo.usersOn(day, limit);
    const emails = await this.accounts.emailsOf(totals.map((row) => row.userId));
    // A user deleted between the two reads has lost its usage rows too (cascade): leave it out.
    return totals.flatMap((row) => {
      const email = emails.get(row.userId);
      return email === undefined ? [] : [{ ...row, email }];
    });
  }

  /** Compares the day's totals with the sums of its ledger rows. */
  async verify(day = utcDay()) {
    return this.repo.mismatches(day);
  }

  private dayDto(tier: Tier, t: DayTotals): UsageDayDto {
    const budget = this.budgetMicroUsd(tier);
    return {
      date: t.day,
      requests: t.requests,
      estimated_requests: t.estimatedRequests,
      prompt_tokens: t.promptTokens,
      completion_tokens: t.completionTokens,
      cost_usd: usd(t.costMicroUsd),
      budget_usd: usd(budget),
      remaining_usd: usd(Math.max(0, budget - t.costMicroUsd)),
      alert: t.costMicroUsd >= budget * ALERT_SHARE,
      resets_at: resetsAt(t.day),
    };
  }
}

/** USD for a message: cents, or as many decimals as a small amount needs. */
const dollars = (micro: number) =>
  usd(micro).toLocaleString('en-US', {
    minimumFractionDigits: 2,
    maximumFractionDigits: 6,
    useGrouping: false,
  });

function spendLimit(tier: Tier, budget: number, day: string, why = 'it is spent'): AppException {
  const resets = resetsAt(day);
  return new AppException(
    'spend_limit_reached',
    `Today's model budget of the ${tier} tier ($${dollars(budget)}) cannot cover this request: ${why}; ` +
      `it resets at ${new Date(resets).toISOString()}`,
    { resets_at: resets, budget_usd: usd(budget) },
  );
}

const emptyDay = (day: string): DayTotals => ({
  day,
  requests: 0,
  promptTokens: 0,
  completionTokens: 0,
  costMicroUsd: 0,
  estimatedRequests: 0,
});
