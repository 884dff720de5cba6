import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';

/**
 * The served OpenAPI document against the server, operation by operation,
 * as a property-based fuzzer probes it: for every parameter and every
 * top-level JSON body field, each value the document declares invalid (a
 * wrong type, a non-integer or `1e3` for an integer, a number out of range,
 * a string off its pattern or over its length, a value off its enum, an
 * empty array under minItems) is sent alone, and the answer must be a 4xx
 * the operation declares, whose body matches the schema declared for that
 * status; a 400 must name the field. The figures are printed at the end.
 */

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  example?: unknown;
}
interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema?: Schema;
  example?: unknown;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  security?: unknown[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** One request the test sends: what it changes and to what. */
interface Probe {
  field: string;
  where: 'query' | 'path' | 'header' | 'body';
  /** Why the value is invalid (wrong type, pattern, …). */
  kind: string;
  value: unknown;
  /** Extra query values sent with it (the page × limit rule needs both). */
  query?: Record<string, unknown>;
}

/** Strings tried, in order, to find one a pattern refuses. */
const OFF_PATTERN = ['!', 'Not Valid!', '..', 'x'.repeat(300), '-', '0'];

function offPattern(pattern: string): string | undefined {
  const re = new RegExp(pattern, 'u');
  return OFF_PATTERN.find((s) => !re.test(s));
}

describe('contract: the server refuses what the document declares invalid, in the declared error shapes', () => {
  let t: TestApp;
  let doc: Document;
  let user: TestUser;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        RATE_LIMIT_ENABLED: 'false',
        PLUGIN_SUBMISSIONS_PER_HOUR: '10000',
        STRIPE_SECRET_KEY: 'sk_test_contract',
        STRIPE_WEBHOOK_SECRET: 'whsec_contract',
      },
    });
    doc = (await request(t.url).get('/docs-json').expect(200)).body as Document;
    user = await newUser(t, { tier: 'team', role: 'admin' });
  });
  afterAll(() => t.close());

  const resolve = (schema: Schema | undefined): Schema | undefined => {
    if (!schema?.$ref) return schema;
    return resolve(doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]);
  };

  /** Why `value` does not match `schema` (OpenAPI 3.0's subset the document uses), or undefined. */
  const mismatch = (value: unknown, schemaOrRef: Schema | undefined, at = 'body'): string | undefined => {
    const schema = resolve(schemaOrRef);
    if (!schema) return undefined;
    if (value === null) return schema.nullable ? undefined : `${at} is null`;
    if (schema.allOf) return schema.allOf.map((s) => mismatch(value, s, at)).find(Boolean);
    if (schema.oneOf) {
      const matching = schema.oneOf.filter((s) => !mismatch(value, s, at)).length;
      return matching === 1 ? undefined : `${at} matches ${matching} of oneOf`;
    }
    if (schema.anyOf)
      return schema.anyOf.some((s) => !mismatch(value, s, at)) ? undefined : `${at}: no anyOf`;
    if (schema.enum && !schema.enum.includes(value)) return `${at}=${JSON.stringify(value)} not in enum`;
    switch (schema.type) {
      case 'integer':
        return Number.isInteger(value) ? undefined : `${at} is not an integer`;
      case 'number':
        return typeof value === 'number' ? undefined : `${at} is not a number`;
      case 'string':
        return typeof value === 'string' ? undefined : `${at} is not a string`;
      case 'boolean':
        return typeof value === 'boolean' ? undefined : `${at} is not a boolean`;
      case 'array':
        if (!Array.isArray(value)) return `${at} is not an array`;
        return value.map((v, i) => mismatch(v, schema.items, `${at}[${i}]`)).find(Boolean);
      case undefined:
      default:
        break;
    }
    if (schema.properties || schema.required) {
      if (typeof value !== 'object' || Array.isArray(value)) return `${at} is not an object`;
      const object = value as Record<string, unknown>;
      for (const name of schema.required ?? []) if (!(name in object)) return `${at}.${name} is missing`;
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        if (name in object) {
          const problem = mismatch(object[name], property, `${at}.${name}`);
          if (problem) return problem;
        }
      }
    }
    return undefined;
  };

  /** The declared-invalid values of one schema. */
  const invalidValues = (schemaOrRef: Schema | undefined, inBody: boolean): Array<[string, unknown]> => {
    const schema = resolve(schemaOrRef);
    if (!schema) return [];
    const values: Array<[string, unknown]> = [];
    switch (schema.type) {
      case 'integer':
        values.push(['wrong type', inBody ? 'seven' : 'seven'], ['not an integer', inBody ? 2.5 : '2.5']);
        if (!inBody) values.push(['exponent', '1e1'], ['hex', '0x10']);
        if (schema.minimum !== undefined)
          values.push(['below minimum', inBody ? schema.minimum - 1 : String(schema.minimum - 1)]);
        if (schema.maximum !== undefined)
          values.push(['above maximum', inBody ? schema.maximum + 1 : String(schema.maximum + 1)]);
        break;
      case 'number':
        values.push(['wrong type', 'seven']);
        break;
      case 'boolean':
        if (inBody) values.push(['wrong type', 'yes']);
        break;
      case 'string': {
        if (inBody && !schema.enum) values.push(['wrong type', 12345]);
        if (schema.enum) values.push(['off the enum', 'not-one-of-them']);
        if (schema.format === 'uuid') values.push(['not a uuid', 'not-a-uuid']);
        if (schema.pattern) {
          const off = offPattern(schema.pattern);
          if (off !== undefined) values.push(['off the pattern', off]);
        }
        if (schema.maxLength !== undefined && schema.maxLength < 20_000)
          values.push(['over maxLength', 'x'.repeat(schema.maxLength + 1)]);
        if (inBody && schema.minLength) values.push(['under minLength', '']);
        break;
      }
      case 'array':
        if (inBody) values.push(['wrong type', 'not an array']);
        if (inBody && schema.minItems) values.push(['under minItems', []]);
        break;
      case undefined:
      default:
        if (inBody && (schema.properties || schema.type === 'object'))
          values.push(['wrong type', 'not an object']);
        break;
    }
    return values;
  };

  /** A value the parameter accepts, so a probe of another parameter is judged alone. */
  const validParameter = (parameter: Parameter): string => {
    const schema = resolve(parameter.schema) ?? {};
    if (schema.format === 'uuid') return randomUUID();
    if (schema.type === 'integer') return String(schema.minimum ?? 1);
    if (typeof schema.example === 'string') return schema.example;
    if (typeof parameter.example === 'string') return parameter.example;
    if (parameter.name === 'device_id') return 'laptop';
    if (parameter.name === 'request_id') return 'c0ffee-42';
    return 'x';
  };

  const probesOf = (op: Operation): Probe[] => {
    const probes: Probe[] = [];
    for (const parameter of op.parameters ?? []) {
      for (const [kind, value] of invalidValues(parameter.schema, false)) {
        // A header value with characters HTTP forbids never reaches the app (the raw-socket tests cover those).
        if (parameter.in === 'header' && typeof value === 'string' && value.length > 8000) continue;
        probes.push({ field: parameter.name, where: parameter.in, kind, value });
      }
    }
    const query = (op.parameters ?? []).filter((p) => p.in === 'query');
    const page = query.find((p) => p.name === 'page');
    const limit = resolve(query.find((p) => p.name === 'limit')?.schema);
    if (page && limit?.maximum) {
      // (page - 1) × limit must stay within 100,000 rows.
      const beyond = Math.floor(100_000 / limit.maximum) + 2;
      probes.push({
        field: 'page',
        where: 'query',
        kind: 'page × limit',
        value: String(beyond),
        query: { limit: limit.maximum },
      });
    }
    const json = op.requestBody?.content['application/json']?.schema;
    let body = resolve(json);
    if (body?.oneOf) body = resolve(body.oneOf[0]);
    for (const [name, property] of Object.entries(body?.properties ?? {})) {
      for (const [kind, value] of invalidValues(property, true))
        probes.push({ field: name, where: 'body', kind, value });
    }
    return probes;
  };

  it('answers every declared-invalid value of every operation with a declared 4xx in its declared error shape', async () => {
    const statuses: Record<string, number> = {};
    const problems: string[] = [];
    let operations = 0;
    let withInput = 0;
    let sent = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        operations++;
        const probes = probesOf(op);
        if (probes.length > 0) withInput++;
        for (const probe of probes) {
          const pathParams = Object.fromEntries(
            (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => [p.name, validParameter(p)]),
          );
          if (probe.where === 'path') pathParams[probe.field] = String(probe.value);
          const url =
            '/api/v1' + path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathParams[name]));
          let req = request(t.url)[method as 'get'](url).set(user.auth);
          // The other required query parameters get valid values, so the probe is judged alone.
          const required = (op.parameters ?? []).filter(
            (p) => p.in === 'query' && p.required && !(probe.where === 'query' && p.name === probe.field),
          );
          const query = {
            ...Object.fromEntries(required.map((p) => [p.name, validParameter(p)])),
            ...probe.query,
            ...(probe.where === 'query' ? { [probe.field]: probe.value } : {}),
          };
          if (Object.keys(query).length > 0) req = req.query(query);
          if (probe.where === 'header') req = req.set(probe.field, String(probe.value));
          if (op.requestBody?.content['application/octet-stream']) {
            req = req.set('Content-Type', 'application/octet-stream').send(Buffer.from('contract'));
          } else if (op.requestBody) {
            req = req.send(probe.where === 'body' ? { [probe.field]: probe.value } : {});
          }
          const res = await req;
          sent++;
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          const name = `${method.toUpperCase()} ${path} ${probe.where} ${probe.field} (${probe.kind}: ${JSON.stringify(probe.value).slice(0, 40)})`;
          const declared = op.responses[String(res.status)];
          if (res.status < 400 || res.status >= 500) {
            problems.push(`${name}: answered ${res.status}`);
            continue;
          }
          if (!declared) {
            problems.push(`${name}: answered ${res.status}, not declared (code ${res.body?.code})`);
            continue;
          }
          const schema = declared.content?.['application/json']?.schema;
          const shape = schema ? mismatch(res.body, schema) : 'no schema declared';
          if (shape) problems.push(`${name}: ${res.status} ${res.body?.code}: ${shape}`);
          if (res.body?.request_id !== res.headers['x-request-id'])
            problems.push(`${name}: request_id differs`);
          // Nest validates a handler's arguments in order and stops at the first that fails: a probe of a
          // path, query or header value beside an (empty, so invalid) body may be answered about the body.
          const judgedAlone = probe.where === 'body' || !op.requestBody;
          if (judgedAlone && res.status === 400 && res.body?.code === 'validation_failed') {
            const messages = ([] as string[]).concat(res.body.message as string | string[]).join(' | ');
            const squash = (s: string) =>
              s
                .toLowerCase()
                .replace(/^x-/, '')
                .replace(/[^a-z0-9]/g, '');
            if (!squash(messages).includes(squash(probe.field)))
              problems.push(`${name}: 400 does not name ${probe.field}: ${messages.slice(0, 160)}`);
          }
        }
      }
    }
    process.stdout.write(
      `contract: ${operations} operations (${withInput} with input), ${sent} requests, statuses ${JSON.stringify(statuses)}\n`,
    );
    expect(problems).toEqual([]);
    expect(operations).toBeGreaterThan(60);
    expect(sent).toBeGreaterThan(200);
  });
});
