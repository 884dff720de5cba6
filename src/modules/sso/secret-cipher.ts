import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DeploymentSecretsRepository } from '../../common/secrets/deployment-secrets.repository.js';
import { AppConfig } from '../../config/app-config.js';
import { SsoException } from './sso.errors.js';

const VERSION = 'v1';
const DEV_KEY_NAME = 'sso-encryption-key';

/** Encrypts `plaintext` under `key` (AES-256-GCM, random 96-bit IV): `v1.<key id>.<iv>.<tag>.<ciphertext>`. */
export function sealWith(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, keyIdOf(key), iv, cipher.getAuthTag(), body]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** The plaintext of `sealed`; null when it was sealed under another key, or altered. */
export function openWith(key: Buffer, sealed: string): string | null {
  const [version, keyId, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || keyId !== keyIdOf(key) || body === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return null;
  }
}

/** Names the key without revealing it, so a value sealed under an old key is told apart from a damaged one. */
function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('adiuva-sso-key-id').update(key).digest('base64url').slice(0, 8);
}

/**
 * Secrets single sign-on keeps at rest (teams' OIDC client secrets, sign-ins' PKCE verifiers),
 * under SSO_ENCRYPTION_KEY. Without it: in dev a key generated once per deployment (kept in the
 * database, which is no protection, only convenience); in prod SSO answers 503.
 */
@Injectable()
export class SecretCipher {
  private key?: Promise<Buffer>;

  constructor(
    private readonly config: AppConfig,
    private readonly secrets: DeploymentSecretsRepository,
  ) {}

  async seal(plaintext: string): Promise<string> {
    return sealWith(await this.keyOrThrow(), plaintext);
  }

  async open(sealed: string): Promise<string> {
    const plaintext = openWith(await this.keyOrThrow(), sealed);
    if (plaintext === null) {
      throw new SsoException(
        'feature_not_configured',
        'A stored single sign-on secret cannot be read with the current SSO_ENCRYPTION_KEY ' +
          '(the key changed): the team owner saves the connection again with PUT /teams/{id}/sso',
      );
    }
    return plaintext;
  }

  private keyOrThrow(): Promise<Buffer> {
    if (this.config.sso.encryptionKey) return Promise.resolve(this.config.sso.encryptionKey);
    if (this.config.isProd) {
      return Promise.reject(
        new SsoException(
          'feature_not_configured',
          'Single sign-on is not configured on this server: the operator sets SSO_ENCRYPTION_KEY',
        ),
      );
    }
    this.key ??= this.secrets
      .getOrCreate(DEV_KEY_NAME, () => randomBytes(32).toString('hex'))
      .then((hex) => Buffer.from(hex, 'hex'));
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }
}
