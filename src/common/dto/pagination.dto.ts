import type { Type as ClassType } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min, ValidateBy, type ValidationArguments } from 'class-validator';
import { ToInteger } from '../decorators/validation.decorators.js';

/**
 * How far offset paging may reach: (page - 1) × limit rows. Deeper pages cost
 * the database a scan of every skipped row, and an unbounded page (1e20)
 * overflows the bigint OFFSET.
 */
export const MAX_PAGE_OFFSET = 100_000;
export const MAX_PAGE = MAX_PAGE_OFFSET + 1;

/** `page` keeps (page - 1) × limit within MAX_PAGE_OFFSET for the DTO's own limit. */
export function WithinPagingReach(): PropertyDecorator {
  return ValidateBy({
    name: 'withinPagingReach',
    validator: {
      validate: (page: unknown, args?: ValidationArguments) => {
        const limit = (args?.object as { limit?: unknown } | undefined)?.limit;
        // A bad limit gets its own message; page alone is judged with limit 1.
        const perPage = typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 ? limit : 1;
        return typeof page !== 'number' || (page - 1) * perPage <= MAX_PAGE_OFFSET;
      },
      defaultMessage: () =>
        `page × limit must stay within the first ${MAX_PAGE_OFFSET} items ((page - 1) × limit ≤ ${MAX_PAGE_OFFSET})`,
    },
  });
}

export class PaginationQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_PAGE,
    default: 1,
    description: `1-based; (page - 1) × limit must not exceed ${MAX_PAGE_OFFSET}`,
  })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  @WithinPagingReach()
  page: number = 1;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}

/** One page of `items` with the paging it was asked for and the total across all pages. */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  limit: number;
}

/**
 * The response class of a paged list of `itemType`: extend it so the OpenAPI
 * schema keeps its own name (`class AuditPageDto extends PageOf(AuditEntryDto) {}`).
 */
export function PageOf<T>(itemType: ClassType<T>): ClassType<Page<T>> {
  abstract class PageDto implements Page<T> {
    @ApiProperty({ type: [itemType] })
    items!: T[];

    @ApiProperty()
    total!: number;

    @ApiProperty()
    page!: number;

    @ApiProperty()
    limit!: number;
  }
  return PageDto as ClassType<Page<T>>;
}
