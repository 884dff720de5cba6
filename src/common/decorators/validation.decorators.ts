import { applyDecorators } from '@nestjs/common';
import { Transform, Type } from 'class-transformer';
import { IsObject, ValidateNested } from 'class-validator';

/**
 * A property holding a nested DTO (or, with `each`, an array of them). Use it
 * instead of a bare `@ValidateNested`: that one lets an array (or an array of
 * arrays) through where an object is expected (`{"vectors": [[]]}` passes
 * with zero errors), so the service would meet `undefined` fields. A test
 * (test/bad-input.e2e-spec.ts) fails for any `@ValidateNested` without `@IsObject`.
 */
export const NestedDto = (type: () => new () => object, options: { each?: boolean } = {}) =>
  applyDecorators(IsObject({ each: options.each }), ValidateNested({ each: options.each }), Type(type));

/** Decimal digits with an optional minus: the only spelling of an integer a query string may use. */
const DECIMAL_INTEGER = /^-?\d{1,20}$/;

/**
 * A query (or JSON) value converted to a number only when it is written as a
 * decimal integer; anything else stays as sent and fails the property's
 * `@IsInt()`. Use it instead of `@Type(() => Number)`, which reads `1e3` as
 * 1000, `0x10` as 16 and an empty or blank value as 0.
 */
export const ToInteger = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && DECIMAL_INTEGER.test(value) ? Number(value) : value,
  );
