/**
 * Limits every request value meets before any DTO sees it. They are checked
 * on the raw parsed values, once per request, so no route can forget them:
 *
 * - JSON nesting depth and key count: class-transformer and class-validator
 *   recurse, and a 3 KB body nested 1,500 levels deep overflows the stack.
 * - NUL characters: Postgres `text`/`jsonb` cannot hold U+0000.
 * - Unpaired UTF-16 surrogates: they are not Unicode text (the email
 *   validator throws on them, JSON columns refuse them, the driver silently
 *   turns them into U+FFFD).
 */
export const MAX_JSON_DEPTH = 64;
/**
 * Object keys plus array items (every item, numbers and strings too), over the
 * whole body: the work class-transformer and class-validator do grows with
 * it, and a flat array of numbers costs them as much as an array of objects.
 * A route whose valid bodies hold more (vector batches) declares its own
 * budget with `@BodyLimit(…, { entries })`.
 */
export const MAX_JSON_ENTRIES = 20_000;

/** What is wrong with a value, and where: `field` is a path such as `vectors[2].id`. */
export interface InputProblem {
  field: string;
  message: string;
}

const MAX_FIELD_LENGTH = 80;

/** A field path fit for an error message (a hostile key can be long or unprintable). */
function shown(field: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = field.replace(/[\u0000-\u001f\u007f]/g, '?');
  return printable.length > MAX_FIELD_LENGTH ? `${printable.slice(0, MAX_FIELD_LENGTH)}…` : printable;
}

/** Why `text` cannot be stored as text, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\0')) return 'must not contain NUL (U+0000) characters';
  // isWellFormed is O(1) on one-byte strings (base64 blobs), so big bodies stay cheap.
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed())
    return 'must be valid Unicode text (it contains an unpaired UTF-16 surrogate)';
  return undefined;
}

const joinKey = (path: string, key: string) => (path ? `${path}.${key}` : key);

/**
 * The first problem in a parsed JSON value or query object: too deep, too
 * many entries, or a string (value or key) that is not storable text. Walks
 * iteratively, so its own stack never overflows.
 *
 * @param root the value; a top-level string is checked as `rootField`
 * @param rootField the name used when `root` itself is the offending string
 * @param maxEntries object keys plus array items allowed in all
 */
export function findInputProblem(
  root: unknown,
  rootField = 'body',
  maxEntries = MAX_JSON_ENTRIES,
): InputProblem | undefined {
  if (typeof root === 'string') {
    const message = textProblem(root);
    return message ? { field: rootField, message: `${shown(rootField)} ${message}` } : undefined;
  }
  if (root === null || typeof root !== 'object') return undefined;

  const nodes: object[] = [root];
  const paths: string[] = [''];
  const depths: number[] = [1];
  let entries = 0;
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const path = paths.pop()!;
    const depth = depths.pop()!;
    if (depth > MAX_JSON_DEPTH) {
      return {
        field: path || rootField,
        message: `${rootField} is nested deeper than ${MAX_JSON_DEPTH} levels (at ${shown(path)})`,
      };
    }
    if (Array.isArray(node)) {
      const items = node as unknown[];
      entries += items.length;
      if (entries > maxEntries) return tooMany(rootField, maxEntries);
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (typeof item === 'string') {
          const message = textProblem(item);
          if (message) return problemAt(`${path}[${i}]`, message);
        } else if (item !== null && typeof item === 'object') {
          nodes.push(item);
          paths.push(`${path}[${i}]`);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    for (const key of Object.keys(node)) {
      if (++entries > maxEntries) return tooMany(rootField, maxEntries);
      const keyMessage = textProblem(key);
      if (keyMessage) {
        const where = path ? `a property name in ${shown(path)}` : 'a property name';
        return { field: path || rootField, message: `${where} ${keyMessage}` };
      }
      const value = (node as Record<string, unknown>)[key];
      if (typeof value === 'string') {
        const message = textProblem(value);
        if (message) return problemAt(joinKey(path, key), message);
      } else if (value !== null && typeof value === 'object') {
        nodes.push(value);
        paths.push(joinKey(path, key));
        depths.push(depth + 1);
      }
    }
  }
  return undefined;
}

function problemAt(field: string, message: string): InputProblem {
  return { field, message: `${shown(field)} ${message}` };
}

function tooMany(rootField: string, maxEntries: number): InputProblem {
  return {
    field: rootField,
    message: `${rootField} has more than ${maxEntries} keys and array items`,
  };
}
