import { randomBytes } from 'node:crypto';
import { findInputProblem, MAX_JSON_DEPTH, MAX_JSON_ENTRIES, textProblem } from './input-limits.js';

const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));
const nestedObjects = (depth: number): unknown =>
  JSON.parse('{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1));

describe('input limits', () => {
  it('accepts ordinary text, including astral characters (paired surrogates) and control characters', () => {
    expect(textProblem('Ada’s laptop 💻 \t\n')).toBeUndefined();
    expect(
      findInputProblem({ name: 'Ada 💻', tags: ['a', 'b'], n: 1, ok: true, none: null }),
    ).toBeUndefined();
  });

  it('names the field holding a NUL or an unpaired surrogate, however deep', () => {
    expect(findInputProblem({ device_name: 'lap\u0000top' })).toEqual({
      field: 'device_name',
      message: 'device_name must not contain NUL (U+0000) characters',
    });
    expect(findInputProblem({ email: 'a\ud800@example.com' })).toEqual({
      field: 'email',
      message: 'email must be valid Unicode text (it contains an unpaired UTF-16 surrogate)',
    });
    expect(findInputProblem({ vectors: [{ id: 'ok' }, { id: 'x\udfff' }] })?.field).toBe('vectors[1].id');
    expect(findInputProblem({ ids: ['a', '\u0000'] })?.field).toBe('ids[1]');
    expect(findInputProblem('x\u0000', 'device_id')?.message).toBe(
      'device_id must not contain NUL (U+0000) characters',
    );
  });

  it('refuses a NUL in a property name without echoing the name', () => {
    const problem = findInputProblem({ outer: { ['bad\u0000key'.repeat(100)]: 1 } });
    expect(problem?.message).toBe('a property name in outer must not contain NUL (U+0000) characters');
  });

  it(`allows ${MAX_JSON_DEPTH} levels of nesting and refuses one more, without recursing`, () => {
    expect(findInputProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(findInputProblem(nestedObjects(MAX_JSON_DEPTH))).toBeUndefined();
    expect(findInputProblem(nested(MAX_JSON_DEPTH + 1))?.message).toMatch(
      `body is nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
    expect(findInputProblem(nestedObjects(100_000))?.message).toMatch(/nested deeper than/);
  });

  it(`refuses more than ${MAX_JSON_ENTRIES} keys and array items, scalars counted`, () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    expect(findInputProblem(keys(MAX_JSON_ENTRIES))).toBeUndefined();
    expect(findInputProblem(keys(MAX_JSON_ENTRIES + 1))?.message).toBe(
      `body has more than ${MAX_JSON_ENTRIES} keys and array items`,
    );
    expect(
      findInputProblem({ x: Array.from({ length: MAX_JSON_ENTRIES + 1 }, () => ({})) })?.message,
    ).toMatch(/more than/);
    // A flat array of numbers, even inside a field no DTO knows, costs validation as much.
    const numbers = Array.from({ length: MAX_JSON_ENTRIES }, (_, i) => i);
    expect(findInputProblem(numbers)).toBeUndefined();
    expect(findInputProblem([...numbers, 1])?.message).toMatch(/more than/);
    expect(findInputProblem({ unknown: [...numbers, 1] })?.message).toMatch(/more than/);
    expect(findInputProblem({ unknown: [...numbers, 1] }, 'body', 30_000)).toBeUndefined();
  });

  it('lets the biggest legitimate bodies through (10 MiB blob, 500 × 1536 floats)', () => {
    const record = { table: 'notes', blob: randomBytes(10 * 1024 * 1024).toString('base64'), checksum: 'ab' };
    const vectors = {
      vectors: Array.from({ length: 500 }, (_, i) => ({
        id: `item-${i}`,
        blob: randomBytes(512).toString('base64'),
        checksum: 'ab',
        vector: Array.from({ length: 1536 }, Math.random),
      })),
    };
    // (Its cost is not timed here: tests assert behaviour, benchmarks measure speed.)
    // The vector routes declare their own entry budget: a full batch of full vectors.
    const vectorEntries = 500 * (1536 + 16) + 16;
    expect(findInputProblem(JSON.parse(JSON.stringify(record)))).toBeUndefined();
    expect(findInputProblem(JSON.parse(JSON.stringify(vectors)), 'body', vectorEntries)).toBeUndefined();
  });
});
