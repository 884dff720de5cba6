import type { INestApplication, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import {
  DocumentBuilder,
  type OpenAPIObject,
  SwaggerModule,
  type HeaderObject,
  type OperationObject,
  type ParameterObject,
  type ReferenceObject,
  type ResponseObject,
  type SchemaObject,
  type SecurityRequirementObject,
} from '@nestjs/swagger';
import { SKIP_RATE_LIMIT_KEY } from './common/decorators/access.decorators.js';
import { IS_PUBLIC_KEY } from './common/decorators/public.decorator.js';
import { ErrorResponseDto } from './common/dto/error-response.dto.js';
import { API_PREFIX } from './common/http/api-prefix.js';
import { APP_VERSION } from './config/version.js';
import {
  applyRulesToParameters,
  applyRulesToSchema,
  argumentClasses,
  type RuleSettings,
  validatedClasses,
} from './openapi.validation.js';

export { API_PREFIX };

/** One tag per module, in the order the Swagger UI shows them. */
const API_TAGS: Array<[string, string]> = [
  ['health', 'Liveness and readiness probes'],
  ['auth', 'Accounts, sessions, tokens and API keys'],
  ['billing', 'Tiers, Stripe checkout, subscriptions and the Stripe webhook'],
  ['teams', 'Teams on the Team tier: members and roles, seats billed per seat, invitations'],
  ['account', 'Your data: export to one archive, erasure after a grace period, restore inside it'],
  ['storage', 'End-to-end encrypted records, attachments, conflicts, quota, changes feed and devices'],
  [
    'vectors',
    'Vector store on pgvector: encrypted items found by blob hash (identical blobs) or by semantic vectors',
  ],
  ['backup', 'Encrypted backups: streamed uploads, history, conditional and ranged downloads'],
  [
    'chat',
    'Chat with the agents: routing, tool calls, pipelines, plan mode and SSE streaming (nothing is stored)',
  ],
  ['agents', 'The agents, their tools and tiers; playbooks (plans of template ids)'],
  ['usage', "Model usage per call and day, priced, against the tier's daily budget"],
  ['marketplace', 'Plugin catalog (Power tier and up), its search, and the registry signing key'],
  ['admin', 'Administration (admin role): accounts, model usage and the audit log'],
  [
    'account',
    'Your data: export everything in one archive, delete the account (erased after a grace period)',
  ],
];

/** Both credentials work on every guarded route (API keys have the owner's tier and limits). */
const SECURITY: SecurityRequirementObject[] = [{ bearer: [] }, { api_key: [] }];

const HEADERS: Record<string, HeaderObject> = {
  'X-Request-Id': {
    description:
      'The request id (yours when you sent a sane X-Request-Id); quote it when reporting a problem',
    schema: { type: 'string' },
  },
  'RateLimit-Limit': {
    description: 'Requests allowed in the current window (the tightest limit that applies)',
    schema: { type: 'integer' },
  },
  'RateLimit-Remaining': { description: 'Requests left in the current window', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the window resets', schema: { type: 'integer' } },
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};
const headerRef = (name: string): ReferenceObject => ({ $ref: `#/components/headers/${name}` });
const errorRef: ReferenceObject = { $ref: `#/components/schemas/${ErrorResponseDto.name}` };

interface HandlerAccess {
  method: string;
  isPublic: boolean;
  rateLimited: boolean;
  /** Its @Query() and @Param() DTOs, whose rules its parameters state. */
  argumentClasses: ReturnType<typeof argumentClasses>;
}

/**
 * What the document states from the deployment's configuration: only
 * VECTOR_DIMENSIONS, a vector's exact length. The served document states this
 * deployment's value; the committed openapi.json, generated with the default
 * configuration, states the default (1536).
 */
export type OpenApiSettings = RuleSettings;

/**
 * The OpenAPI document of the app as integrators get it (served at /docs-json,
 * committed as openapi.json by `npm run openapi:generate`). Operation ids are
 * the controller method names. What every route shares is added here from the
 * same metadata the guards read (@Public, @SkipRateLimit), so a new controller
 * gets it without repeating it: both security schemes on guarded routes, 401,
 * 400 for routes with input, 413 and 415 for JSON bodies, 429 and RateLimit-* on
 * rate-limited routes, X-Request-Id on every response, error bodies as JSON.
 */
export function buildOpenApiDocument(app: INestApplication, settings: OpenApiSettings): OpenAPIObject {
  const handlers = scanHandlers(app);
  const document = SwaggerModule.createDocument(app, documentConfig(), {
    ignoreGlobalPrefix: true,
    // Resolved to the method name below, once the handler's access rules are known.
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey}.${methodKey}`,
    extraModels: [ErrorResponseDto],
  });
  document.components = { ...document.components, headers: HEADERS };
  nameOperations(document, handlers, settings);
  stateValidationRules(document.components.schemas ?? {}, settings);
  includeNullInNullableEnums(document.components.schemas ?? {});
  return sortKeys(document);
}

/** The document's title, description, server, auth schemes and tags. */
function documentConfig(): Omit<OpenAPIObject, 'paths'> {
  const builder = new DocumentBuilder()
    .setTitle('Adiuva Cloud API')
    .setDescription(
      'Accounts, billing, LLM chat, end-to-end encrypted storage and sync, vectors, backups and plugins. ' +
        'Every error has the shape {statusCode, error, code, message, request_id}: branch on `code` ' +
        '(one enum, the same code and status for the same situation everywhere), show `message`. ' +
        'Every response carries X-Request-Id. Guarded routes take an access token or an API key, ' +
        'either as `Authorization: Bearer …` or (API keys) as `X-API-Key`.',
    )
    .setVersion(APP_VERSION)
    .addServer(`/${API_PREFIX}`, 'This server (the API is under /api/v1)')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'An access token from /auth/login or /auth/register, or an API key (adv_…)',
      },
      'bearer',
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key from POST /auth/api-keys' },
      'api_key',
    );
  for (const [name, description] of API_TAGS) builder.addTag(name, description);
  return builder.build();
}

/**
 * Controller method names become the operation ids (unique across the API),
 * and each operation gets its access rules' security and error responses.
 */
function nameOperations(
  document: OpenAPIObject,
  handlers: ReturnType<typeof scanHandlers>,
  settings: OpenApiSettings,
): void {
  const seen = new Map<string, string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [verb, op] of Object.entries(item) as Array<[string, OperationObject]>) {
      const key = op.operationId ?? '';
      const access = handlers.get(key);
      if (!access) throw new Error(`OpenAPI: no handler found for ${verb.toUpperCase()} ${path} (${key})`);
      const other = seen.get(access.method);
      if (other) {
        throw new Error(
          `OpenAPI: operation id ${access.method} is used by ${other} and ${key}: ` +
            'controller method names are the operation ids and must be unique across the API',
        );
      }
      seen.set(access.method, key);
      op.operationId = access.method;
      normalizeOperation(op, access, settings);
    }
  }
}

/** `Controller.method` → who may call it, from the metadata the guards read. */
function scanHandlers(app: INestApplication): Map<string, HandlerAccess> {
  const handlers = new Map<string, HandlerAccess>();
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!ctrl) continue;
      const proto = ctrl.prototype as Record<string, unknown>;
      for (const method of Object.getOwnPropertyNames(proto)) {
        const fn = proto[method];
        if (typeof fn !== 'function' || method === 'constructor') continue;
        if ((Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined) === undefined) continue;
        const meta = (k: string) =>
          Reflect.getMetadata(k, fn) === true || Reflect.getMetadata(k, ctrl) === true;
        handlers.set(`${ctrl.name}.${method}`, {
          method,
          argumentClasses: argumentClasses(ctrl, method),
          isPublic: meta(IS_PUBLIC_KEY),
          // Anonymous callers are limited per address; sign-in routes per address and account.
          rateLimited: !meta(SKIP_RATE_LIMIT_KEY),
        });
      }
    }
  }
  return handlers;
}

function normalizeOperation(op: OperationObject, access: HandlerAccess, settings: OpenApiSettings): void {
  if (access.isPublic) delete op.security;
  else op.security = SECURITY;
  const parameters = dedupeHeaders(op.parameters ?? []);
  applyRulesToParameters(parameters, access.argumentClasses, settings);
  op.parameters = parameters;
  if (op.parameters.length === 0) delete op.parameters;
  const responses = op.responses as Record<string, ResponseObject>;
  addCommonErrors(op, responses, access);
  for (const [code, response] of Object.entries(responses)) normalizeResponse(Number(code), response, access);
}

/** The errors every operation of its kind can answer: invalid input, credentials, body size and type, rate limit. */
function addCommonErrors(
  op: OperationObject,
  responses: Record<string, ResponseObject>,
  access: HandlerAccess,
): void {
  const hasInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
  const jsonBody =
    op.requestBody !== undefined &&
    'content' in op.requestBody &&
    Object.keys(op.requestBody.content).some((type) => type.includes('json'));
  const ensure = (status: number, description: string) => {
    responses[status] ??= { description };
  };
  if (hasInput) ensure(400, 'Invalid input (code validation_failed, …); message names every problem');
  if (!access.isPublic) ensure(401, 'Missing, invalid or expired credentials (code unauthenticated, …)');
  if (jsonBody) ensure(413, 'JSON body over the size limit of this route (code payload_too_large)');
  if (jsonBody) {
    ensure(
      415,
      'Body in a charset other than UTF-8, or a Content-Encoding other than gzip, deflate or br ' +
        '(code unsupported_media_type)',
    );
  }
  if (access.rateLimited) ensure(429, 'Rate limited (code rate_limited); retry after Retry-After seconds');
}

/** A response's headers (the request id, Retry-After, the rate-limit headers) and, for an error, its JSON body. */
function normalizeResponse(status: number, response: ResponseObject, access: HandlerAccess): void {
  const headers: Record<string, HeaderObject | ReferenceObject> = { ...response.headers };
  headers['X-Request-Id'] = headerRef('X-Request-Id');
  if (status >= 400) {
    // Errors are JSON on every route, binary ones included.
    const schema = Object.values(response.content ?? {}).find((m) => m.schema)?.schema ?? errorRef;
    response.content = { 'application/json': { schema } };
  }
  if (status === 429 || status === 503) headers['Retry-After'] = headerRef('Retry-After');
  if (access.rateLimited && (status < 400 || status === 429)) {
    for (const name of ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'])
      headers[name] = headerRef(name);
  }
  response.headers = headers;
}

/**
 * One parameter per header, whatever the case: `@Headers('if-match')` makes
 * Nest's explorer add a lowercase, required copy beside the `@ApiHeader`
 * that documents it. The documented one wins; a header nobody documented is
 * optional (a handler reading `@Headers(name)` gets undefined when it is absent).
 */
function dedupeHeaders(params: Array<ParameterObject | ReferenceObject>): ParameterObject[] {
  const all = params as ParameterObject[];
  const key = (p: ParameterObject) =>
    p.in === 'header' ? `header:${p.name.toLowerCase()}` : `${p.in}:${p.name}`;
  const chosen = new Map<string, ParameterObject>();
  for (const p of all) {
    const prev = chosen.get(key(p));
    if (!prev || (p.description && !prev.description)) chosen.set(key(p), p);
  }
  return [...chosen.values()].map((p) =>
    p.in === 'header' && !p.description ? { ...p, required: false } : p,
  );
}

/** Each DTO schema states its class's validation rules (integers, patterns, bounds, enums). */
function stateValidationRules(
  schemas: Record<string, SchemaObject | ReferenceObject>,
  settings: OpenApiSettings,
): void {
  const classes = validatedClasses();
  for (const [name, schema] of Object.entries(schemas)) {
    const type = classes.get(name);
    if (type && !('$ref' in schema)) applyRulesToSchema(schema, type, settings);
  }
}

/** OpenAPI 3.0: a nullable enum accepts null only when null is one of its values. */
function includeNullInNullableEnums(schemas: Record<string, SchemaObject | ReferenceObject>): void {
  const visit = (s: unknown): void => {
    if (!s || typeof s !== 'object') return;
    const schema = s as SchemaObject;
    // A new array: the enum may be the very constant the app validates with (e.g. TIERS).
    const values: unknown[] | undefined = schema.enum;
    if (schema.nullable && values && !values.includes(null)) schema.enum = [...values, null];
    for (const v of Object.values(schema)) {
      if (Array.isArray(v)) v.forEach(visit);
      else visit(v);
    }
  };
  Object.values(schemas).forEach(visit);
}

/** The same document always serialises the same way (a stable, reviewable openapi.json). */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => sortKeys(v)) as T;
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  ) as T;
}
