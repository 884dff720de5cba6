import { createHmac } from 'node:crypto';
import { LinkSigner, type SignerKeyStore } from './link-signer.js';

/** The deployment's secrets as DeploymentSecretsRepository keeps them: created once per name, then read. */
function memoryStore(): SignerKeyStore & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    getOrCreate: (name, generate) => {
      if (!values.has(name)) values.set(name, generate());
      return Promise.resolve(values.get(name)!);
    },
  };
}

describe('LinkSigner', () => {
  const expires = Date.now() + 60_000;

  it('accepts the signature it made for the same parts and expiry', async () => {
    const signer = new LinkSigner(memoryStore(), 'test_link_key');
    const signature = await signer.sign(['download', 'id-1', 3], expires);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(signer.matches(['download', 'id-1', 3], expires, signature)).resolves.toBe(true);
  });

  it('refuses an altered signature, part or expiry', async () => {
    const signer = new LinkSigner(memoryStore(), 'test_link_key');
    const signature = await signer.sign(['download', 'id-1'], expires);
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    await expect(signer.matches(['download', 'id-1'], expires, flipped)).resolves.toBe(false);
    await expect(signer.matches(['download', 'id-1'], expires, 'AAAA')).resolves.toBe(false);
    await expect(signer.matches(['download', 'id-1'], expires, '')).resolves.toBe(false);
    await expect(signer.matches(['upload', 'id-1'], expires, signature)).resolves.toBe(false);
    await expect(signer.matches(['download', 'id-2'], expires, signature)).resolves.toBe(false);
    await expect(signer.matches(['download', 'id-1'], expires + 1, signature)).resolves.toBe(false);
  });

  it('counts a link as expired from its expiry on, and a non-number expiry as expired', () => {
    const now = 1_700_000_000_000;
    expect(LinkSigner.hasExpired(now + 1, now)).toBe(false);
    expect(LinkSigner.hasExpired(now, now)).toBe(true);
    expect(LinkSigner.hasExpired(now - 1, now)).toBe(true);
    expect(LinkSigner.hasExpired(Number.NaN, now)).toBe(true);
  });

  it('refuses a link signed under another key name, and keeps one key per name', async () => {
    const store = memoryStore();
    const mine = new LinkSigner(store, 'test_link_key');
    const other = new LinkSigner(store, 'other_link_key');
    const signature = await other.sign(['download', 'id-1'], expires);
    await expect(mine.matches(['download', 'id-1'], expires, signature)).resolves.toBe(false);
    expect([...store.values.keys()].sort()).toEqual(['other_link_key', 'test_link_key']);
    expect(store.values.get('test_link_key')).toMatch(/^[0-9a-f]{64}$/);
    // Another instance of the deployment reads the same key, so it accepts the link.
    const again = new LinkSigner(store, 'other_link_key');
    await expect(again.matches(['download', 'id-1'], expires, signature)).resolves.toBe(true);
  });

  it('signs the parts and the expiry joined with newlines under the hex key (the links already given out)', async () => {
    const store = memoryStore();
    const signer = new LinkSigner(store, 'test_link_key');
    const signature = await signer.sign(['upload', 'id-1', ''], expires);
    const key = Buffer.from(store.values.get('test_link_key')!, 'hex');
    expect(signature).toBe(
      createHmac('sha256', key).update(`upload\nid-1\n\n${expires}`).digest('base64url'),
    );
  });

  it('asks for the key again after a failed read', async () => {
    const store = memoryStore();
    let failures = 1;
    const flaky: SignerKeyStore = {
      getOrCreate: (name, generate) =>
        failures-- > 0 ? Promise.reject(new Error('database away')) : store.getOrCreate(name, generate),
    };
    const signer = new LinkSigner(flaky, 'test_link_key');
    await expect(signer.sign(['id-1'], expires)).rejects.toThrow('database away');
    await expect(signer.sign(['id-1'], expires)).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
