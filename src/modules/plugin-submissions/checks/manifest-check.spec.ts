import { checkManifest } from './manifest-check.js';

const valid = {
  id: 'focus-timer',
  name: 'Focus Timer',
  description: 'Pomodoro sessions for your tasks.\n\tWith breaks.',
  version: '1.2.3-beta.1+build.7',
  author: 'Ada',
  permissions: ['read:tasks', 'write:tasks'],
  category: 'Productivity',
  price_cents: 0,
};

function codesOf(manifest: unknown): string[] {
  return checkManifest(manifest).results.map((result) => result.code);
}

function messagesOf(manifest: unknown): string[] {
  return checkManifest(manifest).results.map((result) => result.message);
}

describe('checkManifest', () => {
  it('accepts a valid manifest and returns it typed', () => {
    expect(checkManifest(valid)).toEqual({ results: [], manifest: valid });
  });

  it('refuses a manifest that is not an object', () => {
    for (const value of [null, 'x', [valid], 42]) expect(codesOf(value)).toEqual(['manifest_invalid']);
  });

  it.each([
    ['Focus', 'upper case'],
    ['-focus', 'leading dash'],
    ['focus-', 'trailing dash'],
    ['focus_timer', 'underscore'],
    ['a'.repeat(65), '65 characters'],
    ['', 'empty'],
  ])('refuses the id %j (%s) with manifest_invalid_id', (id) => {
    expect(codesOf({ ...valid, id })).toEqual(['manifest_invalid_id']);
    expect(messagesOf({ ...valid, id })[0]).toContain('id must be 1–64 characters of a-z, 0-9 and "-"');
  });

  it('accepts ids of 1 and 64 characters', () => {
    expect(codesOf({ ...valid, id: 'a' })).toEqual([]);
    expect(codesOf({ ...valid, id: 'a'.repeat(64) })).toEqual([]);
  });

  it.each(['1.0', '01.0.0', '1.0.0-', '1.0.0-01', 'v1.0.0', '1.0.0+', `1.0.0-${'a'.repeat(60)}`])(
    'refuses the version %j with manifest_invalid_version',
    (version) => {
      expect(codesOf({ ...valid, version })).toEqual(['manifest_invalid_version']);
    },
  );

  it('accepts strict semver versions', () => {
    for (const version of ['0.0.0', '10.20.30', '1.0.0-alpha.0.x-y', '1.0.0+20130313144700']) {
      expect(codesOf({ ...valid, version })).toEqual([]);
    }
  });

  it('names each permission that is not allowed, and the allowed set', () => {
    const results = checkManifest({
      ...valid,
      permissions: ['read:tasks', 'admin:all', 'read:email'],
    }).results;
    expect(results.map((result) => result.code)).toEqual([
      'manifest_permission_not_allowed',
      'manifest_permission_not_allowed',
    ]);
    expect(results[0].message).toMatch(
      /^permission "admin:all" is not allowed; allowed: read:tasks, write:tasks/,
    );
    expect(results[1].message).toContain('"read:email"');
  });

  it('refuses duplicate permissions, more than 10, and a permissions value that is not an array', () => {
    expect(messagesOf({ ...valid, permissions: ['read:tasks', 'read:tasks'] })).toEqual([
      'permissions lists "read:tasks" twice',
    ]);
    const eleven = [...Array(11).keys()].map(() => 'read:tasks');
    expect(codesOf({ ...valid, permissions: eleven })).toContain('manifest_invalid');
    expect(codesOf({ ...valid, permissions: 'read:tasks' })).toEqual(['manifest_invalid']);
  });

  it('refuses a category outside the fixed list, naming the list', () => {
    expect(codesOf({ ...valid, category: 'Games' })).toEqual(['manifest_invalid_category']);
    expect(messagesOf({ ...valid, category: 'Games' })[0]).toBe(
      'category must be one of: Productivity, Communication, Integrations, Analytics, Developer Tools, Other',
    );
  });

  it('names every unknown field', () => {
    const results = checkManifest({ ...valid, homepage: 'https://x', icon: 'i.png' }).results;
    expect(results.map((result) => result.code)).toEqual([
      'manifest_unknown_field',
      'manifest_unknown_field',
    ]);
    expect(results[0].message).toContain('"homepage"');
    expect(results[1].message).toContain('"icon"');
  });

  it('lists every problem at once: missing fields, wrong types, bad values', () => {
    const { results, manifest } = checkManifest({ id: 'Bad', version: 1, price_cents: 1.5, extra: true });
    expect(manifest).toBeUndefined();
    expect(results.map((result) => [result.code, result.message])).toEqual([
      ['manifest_unknown_field', expect.stringContaining('"extra"')],
      ['manifest_invalid_id', expect.stringContaining('id must be')],
      ['manifest_invalid', 'name is required'],
      ['manifest_invalid', 'description is required'],
      ['manifest_invalid', 'version must be a string'],
      ['manifest_invalid', 'author is required'],
      ['manifest_invalid', 'category is required'],
      ['manifest_invalid', 'price_cents must be a whole number of cents'],
      ['manifest_invalid', 'permissions is required'],
    ]);
  });

  it('bounds text fields and the price', () => {
    expect(codesOf({ ...valid, name: 'n'.repeat(101) })).toEqual(['manifest_invalid']);
    expect(codesOf({ ...valid, name: '   ' })).toEqual(['manifest_invalid']);
    expect(codesOf({ ...valid, description: 'd '.repeat(1001) })).toEqual(['manifest_invalid']);
    expect(codesOf({ ...valid, price_cents: -1 })).toEqual(['manifest_invalid']);
    expect(codesOf({ ...valid, price_cents: 100_000_01 })).toEqual(['manifest_invalid']);
    expect(codesOf({ ...valid, price_cents: 100_000_00 })).toEqual([]);
  });

  describe('binary data', () => {
    it('refuses a long base64 run, naming the field', () => {
      const blob = Buffer.alloc(300, 7).toString('base64');
      const results = checkManifest({ ...valid, description: `Icon: ${blob}` }).results;
      expect(results.map((result) => result.code)).toEqual(['manifest_binary_data']);
      expect(results[0].message).toBe(
        'description looks like encoded binary data (a long base64 or hex run)',
      );
    });

    it('refuses a long hex run and a data: URI', () => {
      expect(codesOf({ ...valid, author: 'ab'.repeat(100).slice(0, 100) })).toEqual([]);
      expect(codesOf({ ...valid, description: 'f0'.repeat(120) })).toEqual(['manifest_binary_data']);
      expect(messagesOf({ ...valid, description: 'logo data:image/png;base64,iVBORw0KGgo=' })).toEqual([
        'description contains a data: URI; link to files instead',
      ]);
    });

    it('refuses control characters, allowing newline and tab in the description only', () => {
      expect(codesOf({ ...valid, description: 'a\u0001b' })).toEqual(['manifest_binary_data']);
      expect(messagesOf({ ...valid, name: 'Focus\nTimer' })).toEqual(['name contains control characters']);
      expect(codesOf({ ...valid, description: 'line one\nline two\ttabbed' })).toEqual([]);
    });

    it('refuses a manifest over 16 KiB and looks inside unknown fields too', () => {
      const results = checkManifest({ ...valid, padding: 'x '.repeat(9000) }).results;
      expect(results.map((result) => result.code)).toEqual([
        'manifest_unknown_field',
        'manifest_binary_data',
      ]);
      expect(results[1].message).toMatch(/^the manifest is \d+ bytes; at most 16384 are allowed$/);
      expect(codesOf({ ...valid, extra: { nested: ['data:text/plain,hi'] } })).toEqual([
        'manifest_unknown_field',
        'manifest_binary_data',
      ]);
      expect(messagesOf({ ...valid, extra: { nested: ['data:text/plain,hi'] } })[1]).toContain(
        'extra.nested[0]',
      );
    });
  });
});
