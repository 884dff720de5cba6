import { parseIfMatch } from './if-match.js';
import { StorageException } from './storage.errors.js';

describe('parseIfMatch', () => {
  it('reads a bare, quoted or weak version', () => {
    expect(parseIfMatch('3')).toBe(3);
    expect(parseIfMatch('"3"')).toBe(3);
    expect(parseIfMatch('W/"17"')).toBe(17);
    expect(parseIfMatch('  "5" ')).toBe(5);
  });

  it('is undefined without a header', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('')).toBeUndefined();
  });

  it('refuses anything else with validation_failed', () => {
    for (const bad of ['*', 'abc', '1234567890', '3,4', 'W/3x', '"-1"']) {
      let thrown: unknown;
      try {
        parseIfMatch(bad);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(StorageException);
      expect((thrown as StorageException).code).toBe('validation_failed');
    }
  });
});
