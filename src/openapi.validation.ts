import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { ParameterObject, ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';

/**
 * The OpenAPI document says what the validators enforce, read from the same
 * class-validator rules the ValidationPipe runs, so the two cannot drift:
 * `@IsInt` makes a `number` an `integer`, `@Matches` gives the `pattern`,
 * `@Min`/`@Max`, `@MinLength`/`@MaxLength`/`@Length`, `@ArrayMinSize`/
 * `@ArrayMaxSize` and `@IsIn` their bounds and enums (for an array's items
 * with `each`). The Swagger plugin only copies a few of them, and only when
 * their argument is a literal (a pattern held in a constant was lost).
 */

/** A class with validation rules (a DTO). */
type DtoClass = abstract new (...args: never[]) => unknown;

interface Rule {
  name: string;
  constraints: unknown[];
  each: boolean;
}

const rulesByClass = new Map<DtoClass, Map<string, Rule[]>>();

/** Each property's rules, inherited ones first. */
export function validationRules(type: DtoClass): Map<string, Rule[]> {
  let rules = rulesByClass.get(type);
  if (rules) return rules;
  rules = new Map();
  const storage = getMetadataStorage();
  for (const meta of storage.getTargetValidationMetadatas(type, '', true, false)) {
    const name = meta.name ?? storage.getTargetValidatorConstraints(meta.constraintCls)[0]?.name ?? meta.type;
    const list = rules.get(meta.propertyName) ?? [];
    list.push({ name, constraints: (meta.constraints ?? []) as unknown[], each: meta.each });
    rules.set(meta.propertyName, list);
  }
  rulesByClass.set(type, rules);
  return rules;
}

/** Every class that has validation rules, by name (a component schema is named after its class). */
export function validatedClasses(): Map<string, DtoClass> {
  const storage = getMetadataStorage() as unknown as { validationMetadatas: Map<unknown, unknown> };
  const classes = new Map<string, DtoClass>();
  for (const target of storage.validationMetadatas.keys()) {
    if (typeof target === 'function') classes.set(target.name, target as DtoClass);
  }
  return classes;
}

const isSchema = (s: SchemaObject | ReferenceObject | undefined): s is SchemaObject => !!s && !('$ref' in s);

/** What the rules' schemas take from the deployment's configuration. */
export interface RuleSettings {
  /** VECTOR_DIMENSIONS: a property `@IsVector()` checks has exactly this many numbers. */
  vectorDimensions: number;
}

/** Writes a property's rules into its schema. */
/** Rules that copy their first number onto one keyword of the schema (the array's own for the array sizes). */
const NUMBER_KEYWORDS: Record<
  string,
  { keyword: 'minimum' | 'maximum' | 'minLength' | 'maxLength' | 'minItems' | 'maxItems'; ofArray?: true }
> = {
  min: { keyword: 'minimum' },
  max: { keyword: 'maximum' },
  minLength: { keyword: 'minLength' },
  maxLength: { keyword: 'maxLength' },
  arrayMinSize: { keyword: 'minItems', ofArray: true },
  arrayMaxSize: { keyword: 'maxItems', ofArray: true },
};

export function applyRules(schema: SchemaObject, rules: readonly Rule[], settings: RuleSettings): void {
  let allowed: unknown[] | undefined;
  for (const rule of rules) {
    const target = rule.each ? (isSchema(schema.items) ? schema.items : undefined) : schema;
    if (!target) continue;
    const [first, second] = rule.constraints;
    const numeric = NUMBER_KEYWORDS[rule.name];
    if (numeric) {
      if (typeof first === 'number') (numeric.ofArray ? schema : target)[numeric.keyword] = first;
      continue;
    }
    switch (rule.name) {
      case 'isInt':
        if (target.type === 'number' || target.type === undefined) target.type = 'integer';
        break;
      case 'matches':
        if (first instanceof RegExp) target.pattern = first.source;
        else if (typeof first === 'string') target.pattern = first;
        break;
      case 'isLength':
        if (typeof first === 'number') target.minLength = first;
        if (typeof second === 'number') target.maxLength = second;
        break;
      case 'isVector':
        schema.minItems = settings.vectorDimensions;
        schema.maxItems = settings.vectorDimensions;
        break;
      case 'isIn':
        // Several @IsIn on one property (a subclass narrowing its parent's): all of them apply.
        if (Array.isArray(first))
          target.enum = allowed = allowed
            ? allowed.filter((v) => first.includes(v))
            : [...(first as unknown[])];
        break;
      default:
        break;
    }
  }
}

/** Applies a DTO's rules to every property schema of its component schema. */
export function applyRulesToSchema(schema: SchemaObject, type: DtoClass, settings: RuleSettings): void {
  const rules = validationRules(type);
  for (const [property, propertySchema] of Object.entries(schema.properties ?? {})) {
    const own = rules.get(property);
    if (own && isSchema(propertySchema)) applyRules(propertySchema, own, settings);
  }
}

/** The @Query() and @Param() DTO classes of a handler (whole-object arguments only). */
export function argumentClasses(controller: DtoClass, method: string): { query?: DtoClass; path?: DtoClass } {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', controller.prototype as object, method) ??
    []) as unknown[];
  const found: { query?: DtoClass; path?: DtoClass } = {};
  for (const [key, arg] of Object.entries(args)) {
    const kind = Number(key.split(':')[0]);
    const type = types[arg.index];
    if (arg.data !== undefined || typeof type !== 'function') continue;
    if (kind === (RouteParamtypes.QUERY as number)) found.query = type as DtoClass;
    if (kind === (RouteParamtypes.PARAM as number)) found.path = type as DtoClass;
  }
  return found;
}

/** Applies the query and path DTOs' rules to the operation's parameters of the same names. */
export function applyRulesToParameters(
  parameters: ParameterObject[],
  classes: { query?: DtoClass; path?: DtoClass },
  settings: RuleSettings,
): void {
  for (const parameter of parameters) {
    const type =
      parameter.in === 'query' ? classes.query : parameter.in === 'path' ? classes.path : undefined;
    const rules = type ? validationRules(type).get(parameter.name) : undefined;
    if (rules && isSchema(parameter.schema)) applyRules(parameter.schema, rules, settings);
  }
}
