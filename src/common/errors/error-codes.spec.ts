import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ERROR_STATUS } from './error-codes.js';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../../..');

/**
 * The error-code table of docs/api.md is what client authors branch on: it
 * lists every code the API can answer, with the status the code table gives
 * it, and nothing else (a code added to a module shows up here in review).
 */
describe('docs/api.md error codes', () => {
  const page = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
  const section = page.slice(page.indexOf('## Error codes'));
  const documented = Object.fromEntries(
    [...section.matchAll(/^\| `([a-z_]+)`\s*\| (\d{3})\s*\|/gm)].map((m) => [m[1], Number(m[2])]),
  );

  it('lists exactly the codes of src/common/errors/error-codes.ts, each with its status', () => {
    expect(documented).toEqual({ ...ERROR_STATUS });
  });
});
