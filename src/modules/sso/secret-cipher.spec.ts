import { randomBytes } from 'node:crypto';
import { openWith, sealWith } from './secret-cipher.js';

describe('secret sealing (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and seals the same text differently each time', () => {
    const sealed = sealWith(key, 'client secret ✓');
    expect(openWith(key, sealed)).toBe('client secret ✓');
    expect(sealWith(key, 'client secret ✓')).not.toBe(sealed);
    expect(sealed).not.toContain('client');
  });

  it('refuses another key and any altered part', () => {
    const sealed = sealWith(key, 'client secret');
    expect(openWith(randomBytes(32), sealed)).toBeNull();
    const parts = sealed.split('.');
    for (const index of [2, 3, 4]) {
      const altered = [...parts];
      const bytes = Buffer.from(altered[index], 'base64url');
      bytes[0] ^= 1;
      altered[index] = bytes.toString('base64url');
      expect(openWith(key, altered.join('.'))).toBeNull();
    }
    expect(openWith(key, 'not sealed')).toBeNull();
  });
});
