import { z } from 'zod';
import { ALLOWED_PERMISSIONS, type CheckResult, PLUGIN_CATEGORIES, type PluginManifest } from './types.js';

const MANIFEST_FIELDS = [
  'id',
  'name',
  'description',
  'version',
  'author',
  'permissions',
  'category',
  'price_cents',
] as const;
type ManifestField = (typeof MANIFEST_FIELDS)[number];

const ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
/** Semantic Versioning 2.0.0, the regular expression the specification itself suggests. */
const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const MAX_PERMISSIONS = 10;
const MAX_PRICE_CENTS = 100_000_00;
export const MAX_MANIFEST_BYTES = 16 * 1024;
/** A run this long of base64/hex characters is an encoded file, not text a person wrote. */
const BLOB_PATTERN = /[A-Za-z0-9+/=_-]{200,}/;
const DATA_URI_PATTERN = /\bdata:[a-z]+\/[a-z0-9.+-]+[;,]/i;
/** C0 and C1 control characters; newline and tab are allowed in the description only. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_PATTERN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_PATTERN_WITH_LAYOUT = /[\u0000-\u001F\u007F-\u009F]/;

const text = (field: string, max: number) =>
  z
    .string({ error: `${field} must be a string` })
    .refine((value) => value.trim().length > 0 && value.length <= max, {
      error: `${field} must be 1–${max} characters, not blank`,
    });

/** Each scalar field: its rule and the code a broken value gets (a missing or mistyped one is manifest_invalid). */
const SCALAR_FIELDS = {
  id: {
    code: 'manifest_invalid_id',
    schema: z.string({ error: 'id must be a string' }).regex(ID_PATTERN, {
      error: 'id must be 1–64 characters of a-z, 0-9 and "-", neither starting nor ending with "-"',
    }),
  },
  name: { code: 'manifest_invalid', schema: text('name', 100) },
  description: { code: 'manifest_invalid', schema: text('description', 2000) },
  version: {
    code: 'manifest_invalid_version',
    schema: z
      .string({ error: 'version must be a string' })
      .max(64, { error: 'version must be at most 64 characters' })
      .regex(SEMVER_PATTERN, { error: 'version must be a semantic version (SemVer 2.0.0), such as 1.2.3' }),
  },
  author: { code: 'manifest_invalid', schema: text('author', 100) },
  category: {
    code: 'manifest_invalid_category',
    schema: z.string({ error: 'category must be a string' }).refine((value) => isCategory(value), {
      error: `category must be one of: ${PLUGIN_CATEGORIES.join(', ')}`,
    }),
  },
  price_cents: {
    code: 'manifest_invalid',
    schema: z
      .number({ error: 'price_cents must be a number' })
      .int({ error: 'price_cents must be a whole number of cents' })
      .min(0, { error: 'price_cents must be 0 or more' })
      .max(MAX_PRICE_CENTS, { error: `price_cents must be at most ${MAX_PRICE_CENTS}` }),
  },
} satisfies Record<Exclude<ManifestField, 'permissions'>, { code: string; schema: z.ZodType }>;

function isCategory(value: string): boolean {
  return (PLUGIN_CATEGORIES as readonly string[]).includes(value);
}

function isPermission(value: unknown): boolean {
  return typeof value === 'string' && (ALLOWED_PERMISSIONS as readonly string[]).includes(value);
}

/** User content quoted in a message: short, and printable. */
export function quote(value: unknown): string {
  const shown = JSON.stringify(typeof value === 'string' ? value : String(value));
  return shown.length > 66 ? `${shown.slice(0, 63)}…"` : shown;
}

function failed(code: string, message: string): CheckResult {
  return { check: 'manifest', status: 'failed', code, message };
}

/** Every problem of the submitted manifest, one result each; the typed manifest when there is none. */
export function checkManifest(raw: unknown): { results: CheckResult[]; manifest?: PluginManifest } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { results: [failed('manifest_invalid', 'the manifest must be a JSON object')] };
  }
  const fields = raw as Record<string, unknown>;
  const results = [
    ...unknownFieldProblems(fields),
    ...scalarProblems(fields),
    ...permissionProblems(fields),
    ...binaryDataProblems(fields),
  ];
  if (results.length > 0) return { results };
  return { results, manifest: fields as unknown as PluginManifest };
}

function unknownFieldProblems(fields: Record<string, unknown>): CheckResult[] {
  const known: readonly string[] = MANIFEST_FIELDS;
  return Object.keys(fields)
    .filter((key) => !known.includes(key))
    .map((key) =>
      failed(
        'manifest_unknown_field',
        `unknown field ${quote(key)} in the manifest; the fields are: ${MANIFEST_FIELDS.join(', ')}`,
      ),
    );
}

function scalarProblems(fields: Record<string, unknown>): CheckResult[] {
  const results: CheckResult[] = [];
  for (const [field, { code, schema }] of Object.entries(SCALAR_FIELDS)) {
    if (fields[field] === undefined || fields[field] === null) {
      results.push(failed('manifest_invalid', `${field} is required`));
      continue;
    }
    const parsed = schema.safeParse(fields[field]);
    const issue = parsed.error?.issues[0];
    if (issue) results.push(failed(issue.code === 'invalid_type' ? 'manifest_invalid' : code, issue.message));
  }
  return results;
}

function permissionProblems(fields: Record<string, unknown>): CheckResult[] {
  const permissions = fields.permissions;
  if (permissions === undefined || permissions === null)
    return [failed('manifest_invalid', 'permissions is required')];
  if (!Array.isArray(permissions)) {
    return [failed('manifest_invalid', 'permissions must be an array of permission names')];
  }
  const results: CheckResult[] = [];
  if (permissions.length > MAX_PERMISSIONS) {
    results.push(failed('manifest_invalid', `permissions may list at most ${MAX_PERMISSIONS} entries`));
  }
  const seen = new Set<unknown>();
  for (const permission of permissions.slice(0, MAX_PERMISSIONS * 2)) {
    if (!isPermission(permission)) {
      results.push(
        failed(
          'manifest_permission_not_allowed',
          `permission ${quote(permission)} is not allowed; allowed: ${ALLOWED_PERMISSIONS.join(', ')}`,
        ),
      );
    } else if (seen.has(permission)) {
      results.push(failed('manifest_invalid', `permissions lists ${quote(permission)} twice`));
    }
    seen.add(permission);
  }
  return results;
}

/** Encoded files smuggled into the manifest: oversize, control characters, base64/hex runs, data: URIs. */
function binaryDataProblems(fields: Record<string, unknown>): CheckResult[] {
  const results: CheckResult[] = [];
  const bytes = Buffer.byteLength(JSON.stringify(fields), 'utf8');
  if (bytes > MAX_MANIFEST_BYTES) {
    results.push(
      failed(
        'manifest_binary_data',
        `the manifest is ${bytes} bytes; at most ${MAX_MANIFEST_BYTES} are allowed`,
      ),
    );
  }
  for (const [path, value] of stringsOf(fields, '')) {
    const control = path === 'description' ? CONTROL_PATTERN : CONTROL_PATTERN_WITH_LAYOUT;
    if (control.test(value)) {
      results.push(failed('manifest_binary_data', `${path} contains control characters`));
    }
    if (BLOB_PATTERN.test(value)) {
      results.push(
        failed('manifest_binary_data', `${path} looks like encoded binary data (a long base64 or hex run)`),
      );
    } else if (DATA_URI_PATTERN.test(value)) {
      results.push(failed('manifest_binary_data', `${path} contains a data: URI; link to files instead`));
    }
  }
  return results;
}

/** Every string in a JSON value with its path (`permissions[2]`), to a bounded depth. */
function stringsOf(value: unknown, path: string, depth = 0): Array<[string, string]> {
  if (typeof value === 'string') return [[path || '(manifest)', value]];
  if (typeof value !== 'object' || value === null || depth > 64) return [];
  const entries = Array.isArray(value)
    ? value.map((item, index) => [`${path}[${index}]`, item] as const)
    : Object.entries(value).map(([key, item]) => {
        const shown = /^[A-Za-z0-9_]{1,40}$/.test(key) ? key : quote(key);
        return [path ? `${path}.${shown}` : shown, item] as const;
      });
  return entries.flatMap(([itemPath, item]) => stringsOf(item, itemPath, depth + 1));
}
