import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_PREFIX } from '../../common/http/api-prefix.js';
import { publicOrigin } from '../../common/http/public-origin.js';
import { DeploymentSecretsRepository } from '../../common/secrets/deployment-secrets.repository.js';
import { AppConfig } from '../../config/app-config.js';
import { StorageException } from './storage.errors.js';

const KEY_NAME = 'attachment_link_key';

/** What a signed attachment link carries besides the attachment id (its query string). */
export interface AttachmentLink {
  /** The part number for a part upload; absent for the whole object. */
  part?: number;
  expires: number;
  signature: string;
}

export type LinkUse = 'upload' | 'download';

/**
 * Links to our own attachment content route, for the files driver (S3 signs its own): an HMAC
 * over use, attachment, part and expiry under a per-deployment key. The link is the whole
 * authorization, as a presigned S3 URL is, so it names exactly one use of one attachment (an
 * upload link cannot download, a part's link cannot write another part).
 */
@Injectable()
export class AttachmentLinks {
  private key?: Promise<Buffer>;

  constructor(
    private readonly secrets: DeploymentSecretsRepository,
    private readonly config: AppConfig,
    private readonly http: HttpAdapterHost,
  ) {}

  async url(use: LinkUse, attachmentId: string, expires: number, part?: number): Promise<string> {
    const signature = await this.sign(use, attachmentId, expires, part);
    const query = new URLSearchParams({
      ...(part === undefined ? {} : { part: String(part) }),
      expires: String(expires),
      signature,
    });
    const path = `${API_PREFIX}/storage/attachments/${attachmentId}/${use}`;
    return `${publicOrigin(this.config, this.http)}/${path}?${query.toString()}`;
  }

  /** Refuses an altered link (403 link_invalid) or an expired one (403 link_expired). */
  async verify(use: LinkUse, attachmentId: string, link: AttachmentLink): Promise<void> {
    const expected = Buffer.from(await this.sign(use, attachmentId, link.expires, link.part), 'base64url');
    const given = Buffer.from(link.signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new StorageException('link_invalid', 'This attachment link is not one the server made');
    }
    if (!(link.expires > Date.now())) {
      throw new StorageException(
        'link_expired',
        use === 'upload'
          ? 'This upload link has expired: the upload was not finished in time; create the attachment again'
          : 'This download link has expired: ask GET /storage/attachments/{id} for a new one',
      );
    }
  }

  private async sign(use: LinkUse, attachmentId: string, expires: number, part?: number): Promise<string> {
    return createHmac('sha256', await this.secret())
      .update(`${use}\n${attachmentId}\n${part ?? ''}\n${expires}`)
      .digest('base64url');
  }

  private secret(): Promise<Buffer> {
    this.key ??= this.secrets
      .getOrCreate(KEY_NAME, () => randomBytes(32).toString('hex'))
      .then((hex) => Buffer.from(hex, 'hex'));
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }
}
