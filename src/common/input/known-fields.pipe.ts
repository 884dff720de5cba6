import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';

/** A DTO class, as Nest gives it in the argument metadata. */
type DtoClass = abstract new (...args: never[]) => unknown;

/**
 * Drops the top-level fields a body or query DTO does not declare, before the
 * ValidationPipe transforms it. The ValidationPipe's `whitelist` drops them
 * too, but only after class-transformer has copied (and class-validator
 * walked) whatever they hold: a large value in a field nobody reads cost a
 * full transformation. A declared field is one with a class-validator
 * decorator, the same rule `whitelist` applies, so the outcome is unchanged.
 * Nested DTOs are left to `whitelist`; the input entry limit bounds them.
 */
@Injectable()
export class KnownFieldsPipe implements PipeTransform {
  /** Each DTO class's declared fields, worked out on its first request. */
  private readonly fields = new Map<DtoClass, ReadonlySet<string>>();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' && metadata.type !== 'query') return value;
    if (!metadata.metatype || value === null || typeof value !== 'object' || Array.isArray(value))
      return value;
    const known = this.knownFields(metadata.metatype);
    if (known.size === 0) return value;
    const input = value as Record<string, unknown>;
    let unknownKey = false;
    for (const key in input) {
      if (!known.has(key)) {
        unknownKey = true;
        break;
      }
    }
    if (!unknownKey) return value;
    const kept: Record<string, unknown> = {};
    for (const key of Object.keys(input)) if (known.has(key)) kept[key] = input[key];
    return kept;
  }

  private knownFields(type: DtoClass): ReadonlySet<string> {
    let known = this.fields.get(type);
    if (!known) {
      const rules = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
      known = new Set(rules.map((rule) => rule.propertyName));
      this.fields.set(type, known);
    }
    return known;
  }
}
