import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';

type Ctor = new () => object;

/**
 * `@IsOptional()` lets `null` through unvalidated, so a service that tells
 * "sent" from "not sent" with `!== undefined` met `null` as a value (a 500 on
 * `{"query_blob": null}`, `LIMIT NULL` on `{"top_k": null}`). Runs after
 * validation on every body DTO, nested ones included: a `null` in an
 * optional field means absent, as it did for the earlier API's optional
 * fields, and the field gets its default back. A field that gives `null` a
 * meaning of its own declares a `@ValidateIf` beside `@IsOptional` (e.g. an
 * admin's `tier: null` clears the override) and keeps its `null`.
 */
@Injectable()
export class NullAsAbsentPipe implements PipeTransform {
  private readonly fieldsByClass = new Map<Ctor, string[]>();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body') this.clear(value, 0);
    return value;
  }

  private clear(value: unknown, depth: number): void {
    if (value === null || typeof value !== 'object' || depth > 16) return;
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) this.clear(item, depth + 1);
      return;
    }
    const ctor = value.constructor as Ctor;
    if (ctor === Object) return;
    const dto = value as Record<string, unknown>;
    const nullMeansAbsent = this.nullMeansAbsent(ctor);
    let defaults: Record<string, unknown> | undefined;
    for (const [key, field] of Object.entries(dto)) {
      if (field === null && nullMeansAbsent.includes(key)) {
        defaults ??= new ctor() as Record<string, unknown>;
        if (defaults[key] === undefined) delete dto[key];
        else dto[key] = defaults[key];
      } else {
        this.clear(field, depth + 1);
      }
    }
  }

  /** Properties with `@IsOptional()` and no other condition. */
  private nullMeansAbsent(ctor: Ctor): string[] {
    let fields = this.fieldsByClass.get(ctor);
    if (!fields) {
      const conditions = getMetadataStorage()
        .getTargetValidationMetadatas(ctor, '', true, false)
        .filter((m) => m.type === 'conditionalValidation');
      fields = [
        ...new Set(conditions.filter((m) => m.name === 'isOptional').map((m) => m.propertyName)),
      ].filter((p) => conditions.every((m) => m.propertyName !== p || m.name === 'isOptional'));
      this.fieldsByClass.set(ctor, fields);
    }
    return fields;
  }
}
