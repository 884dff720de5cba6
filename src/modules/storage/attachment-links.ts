import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { API_PREFIX } from '../../common/http/api-prefix.js';
import { publicOrigin } from '../../common/http/public-origin.js';
import { DeploymentSecretsRepository } from '../../common/secrets/deployment-secrets.repository.js';
import { LinkSigner } from '../../common/secrets/link-signer.js';
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
  private readonly signer: LinkSigner;

  constructor(
    secrets: DeploymentSecretsRepository,
    private readonly config: AppConfig,
    private readonly http: HttpAdapterHost,
  ) {
    this.signer = new LinkSigner(secrets, KEY_NAME);
  }

  async url(use: LinkUse, attachmentId: string, expires: number, part?: number): Promise<string> {
    const signature = await this.signer.sign(signedParts(use, attachmentId, part), expires);
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
    const parts = signedParts(use, attachmentId, link.part);
    if (!(await this.signer.matches(parts, link.expires, link.signature))) {
      throw new StorageException('link_invalid', 'This attachment link is not one the server made');
    }
    if (LinkSigner.hasExpired(link.expires)) {
      throw new StorageException(
        'link_expired',
        use === 'upload'
          ? 'This upload link has expired: the upload was not finished in time; create the attachment again'
          : 'This download link has expired: ask GET /storage/attachments/{id} for a new one',
      );
    }
  }
}

/** What a link's signature covers besides its expiry: the whole object's links sign an empty part. */
function signedParts(use: LinkUse, attachmentId: string, part: number | undefined): (string | number)[] {
  return [use, attachmentId, part ?? ''];
}
