import { ChangeCursor } from './change-cursor.js';

describe('ChangeCursor', () => {
  const cursors = new ChangeCursor('a-secret-of-at-least-32-characters-long');
  const alice = '2b0f7c3e-1d2a-4c55-9d5e-0f3b1a2c4d5e';
  const bob = '7a1e4f9c-3b2d-4e6f-8a9b-1c2d3e4f5a6b';

  it('round-trips a seq for its user', () => {
    expect(cursors.verify(alice, cursors.sign(alice, 42))).toBe(42);
    expect(cursors.verify(alice, cursors.sign(alice, 0))).toBe(0);
  });

  it('starts from 0 without a cursor', () => {
    expect(cursors.verify(alice, undefined)).toBe(0);
    expect(cursors.verify(alice, '')).toBe(0);
  });

  it('refuses another user’s cursor', () => {
    expect(cursors.verify(bob, cursors.sign(alice, 42))).toBeNull();
  });

  it('refuses an edited seq or MAC, and malformed cursors', () => {
    const cursor = cursors.sign(alice, 42);
    const [, mac] = cursor.split('.');
    expect(cursors.verify(alice, `43.${mac}`)).toBeNull();
    expect(cursors.verify(alice, `42.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    for (const bad of ['42', '42.', 'x.y', `-1.${mac}`, `${'9'.repeat(19)}.${mac}`]) {
      expect(cursors.verify(alice, bad)).toBeNull();
    }
  });

  it('depends on the secret', () => {
    const other = new ChangeCursor('another-secret-of-at-least-32-characters');
    expect(other.verify(alice, cursors.sign(alice, 42))).toBeNull();
  });
});
