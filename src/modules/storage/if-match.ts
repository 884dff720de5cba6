import { StorageException } from './storage.errors.js';

/** The record version named by an If-Match header (`3`, `"3"` or `W/"3"`); undefined without one. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!match)
    throw new StorageException('validation_failed', 'If-Match must be the record version, e.g. "3"');
  return Number(match[1]);
}
