import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DeploymentSecretsRepository } from './deployment-secrets.repository.js';

/** Where a signer keeps its key: the deployment's secrets (an in-memory map in the unit spec). */
export type SignerKeyStore = Pick<DeploymentSecretsRepository, 'getOrCreate'>;

/**
 * Signatures for links the server hands out and later takes back as the whole authorization (our
 * own download and upload routes on the files driver, where S3 would presign): an HMAC-SHA256,
 * base64url, over the caller's parts and the expiry joined with newlines, under a random 32-byte
 * key per deployment. Each kind of link names its own key, so a link of one kind never passes for
 * another. The caller owns the rest of the wire format (the route, the query parameter names) and
 * its error codes, and decides whether an expired or an altered link is refused first.
 */
export class LinkSigner {
  private key?: Promise<Buffer>;

  constructor(
    private readonly secrets: SignerKeyStore,
    private readonly keyName: string,
  ) {}

  /** The signature of `parts` and `expires` (ms since epoch), for a link's query string. */
  async sign(parts: readonly (string | number)[], expires: number): Promise<string> {
    return createHmac('sha256', await this.secret())
      .update([...parts, expires].join('\n'))
      .digest('base64url');
  }

  /** Whether `signature` is the one this signer makes for `parts` and `expires`, compared in constant time. */
  async matches(parts: readonly (string | number)[], expires: number, signature: string): Promise<boolean> {
    const expected = Buffer.from(await this.sign(parts, expires), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Whether a link that works until `expires` has stopped working; a non-number (NaN) has. */
  static hasExpired(expires: number, now = Date.now()): boolean {
    return !(expires > now);
  }

  /** Read (or created) once; a failed read is forgotten so the next link asks again. */
  private secret(): Promise<Buffer> {
    this.key ??= this.secrets
      .getOrCreate(this.keyName, () => randomBytes(32).toString('hex'))
      .then((hex) => Buffer.from(hex, 'hex'));
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }
}
