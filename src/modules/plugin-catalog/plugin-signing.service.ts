import { Injectable } from '@nestjs/common';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { DeploymentSecretsRepository } from '../../common/secrets/deployment-secrets.repository.js';

const KEY_NAME = 'plugin_signing_key';

/**
 * The registry's Ed25519 key: made once per deployment, shared by every
 * instance through the deployment secrets, never sent or logged; only the
 * public key leaves the server. A signature covers the raw 32 bytes of the
 * package's SHA-256, so a client verifies it against the digest it computes
 * from the bytes it downloaded.
 */
@Injectable()
export class PluginSigningService {
  private privateKey?: Promise<KeyObject>;

  constructor(private readonly secrets: DeploymentSecretsRepository) {}

  private key(): Promise<KeyObject> {
    this.privateKey ??= this.secrets
      .getOrCreate(KEY_NAME, () =>
        generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      )
      .then((pem) => createPrivateKey(pem));
    // A failed read is not cached, so the next call tries again.
    this.privateKey.catch(() => (this.privateKey = undefined));
    return this.privateKey;
  }

  /** The public key as base64 SPKI DER. */
  async publicKey(): Promise<string> {
    return createPublicKey(await this.key())
      .export({ type: 'spki', format: 'der' })
      .toString('base64');
  }

  /** Base64 signature over the digest given as lowercase hex. */
  async signDigest(sha256Hex: string): Promise<string> {
    return sign(null, Buffer.from(sha256Hex, 'hex'), await this.key()).toString('base64');
  }
}
