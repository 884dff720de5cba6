import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Matches, Max, Min, ValidateBy } from 'class-validator';
import { ToInteger } from '../../../common/decorators/validation.decorators.js';

/**
 * A calendar day that exists (2026-02-31 does not) in a year PostgreSQL's
 * `date` holds as written here: 0001–9999 (JavaScript has a year 0, PostgreSQL
 * does not, and a query with one fails).
 */
function IsRealDay(): PropertyDecorator {
  return ValidateBy({
    name: 'isRealDay',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'string' &&
        !v.startsWith('0000') &&
        !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) &&
        new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
      defaultMessage: () => 'date must be a day that exists (YYYY-MM-DD)',
    },
  });
}

export const MAX_HISTORY_DAYS = 90;

/** One UTC day of a user's model usage against the tier's budget. */
export class UsageDayDto {
  @ApiProperty({ example: '2026-11-28', description: 'The UTC day' })
  date!: string;

  @ApiProperty({ description: 'Model calls (router, agents, synthesis, embeddings)', example: 12 })
  requests!: number;

  @ApiProperty({
    description:
      'Of those, calls whose tokens are our estimate, not the provider’s figures: calls cut before the ' +
      'provider reported usage (cancelled, client gone, timed out, connection dropped) or a provider that ' +
      'reports none. The prompt is counted with the tokenizer as sent, the completion from what was ' +
      'received (text and tool-call arguments).',
    example: 1,
  })
  estimated_requests!: number;

  @ApiProperty({ example: 18234 })
  prompt_tokens!: number;

  @ApiProperty({ example: 1532 })
  completion_tokens!: number;

  @ApiProperty({ description: 'Spent, in USD (kept in integer micro-USD)', example: 0.060905 })
  cost_usd!: number;

  @ApiProperty({ description: "The tier's daily budget in USD (LLM_DAILY_BUDGET_USD)", example: 5 })
  budget_usd!: number;

  @ApiProperty({ example: 4.939095 })
  remaining_usd!: number;

  @ApiProperty({ description: 'True once 80 % of the budget is spent', example: false })
  alert!: boolean;

  @ApiProperty({ description: 'When the budget resets (the next UTC midnight), ms since the epoch' })
  resets_at!: number;
}

export class UsageHistoryQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_HISTORY_DAYS, default: 30 })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_HISTORY_DAYS)
  days: number = 30;
}

export class AdminUsageQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-28',
    description: 'The UTC day (today if omitted), YYYY-MM-DD in the years 0001–9999',
  })
  @IsOptional()
  @Matches(/^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, {
    message: 'date must be a day as YYYY-MM-DD (years 0001–9999)',
  })
  @IsRealDay()
  date?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 100;
}

export class AdminUserUsageDto {
  @ApiProperty({ format: 'uuid' })
  user_id!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty()
  requests!: number;

  @ApiProperty()
  prompt_tokens!: number;

  @ApiProperty()
  completion_tokens!: number;

  @ApiProperty()
  cost_usd!: number;
}

export class AdminUsageDto {
  @ApiProperty({ example: '2026-11-28' })
  date!: string;

  @ApiProperty({ type: [AdminUserUsageDto], description: 'The biggest spenders first, at most `limit`' })
  users!: AdminUserUsageDto[];

  @ApiProperty({ description: 'Spent by the listed users, in USD' })
  total_cost_usd!: number;
}
