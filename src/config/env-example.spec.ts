import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { envSchema } from './env.schema.js';

/**
 * `.env.example` and docs/configuration.md list exactly the variables the schema reads, so a
 * variable added to src/config/env.schema.ts without its line fails here (issue 34).
 */
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const schemaKeys = Object.keys(envSchema.shape).sort();

describe('.env.example and docs/configuration.md', () => {
  it('.env.example lists every variable of the schema, and no other, each once', () => {
    const lines = readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n');
    const listed = lines.map((l) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(l)?.[1]).filter((k) => k !== undefined);
    expect([...listed].sort()).toEqual(schemaKeys);
  });

  it('.env.example gives each variable its default (or an example) and a one-line comment', () => {
    const lines = readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n');
    const bare = lines.filter((l) => /^#?\s*[A-Z][A-Z0-9_]*=/.test(l) && !/\s#\s+\S/.test(l));
    expect(bare).toEqual([]);
  });

  it('docs/configuration.md names every variable of the schema', () => {
    const doc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    expect(schemaKeys.filter((k) => !doc.includes(`\`${k}\``))).toEqual([]);
  });
});
