import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:net';
import { BlobStore } from '../../common/blob-store/blob-store.js';
import { API_PREFIX } from '../../common/http/api-prefix.js';
import { DeploymentSecretsRepository } from '../../common/secrets/deployment-secrets.repository.js';
import { LinkSigner } from '../../common/secrets/link-signer.js';
import { AppConfig } from '../../config/app-config.js';
import { AccountException } from './account.errors.js';

/** How long an export's download link works. */
export const EXPORT_LINK_TTL_SECONDS = 15 * 60;
const KEY_NAME = 'account_export_download_key';

/**
 * Download links of export archives, valid 15 minutes: presigned by the
 * bucket on S3; on the files driver, our public download route signed with an
 * HMAC over the export id and the expiry under a per-deployment key.
 */
@Injectable()
export class ExportLinksService {
  private readonly signer: LinkSigner;

  constructor(
    private readonly blobs: BlobStore,
    secrets: DeploymentSecretsRepository,
    private readonly config: AppConfig,
    private readonly http: HttpAdapterHost,
  ) {
    this.signer = new LinkSigner(secrets, KEY_NAME);
  }

  async linkFor(exportId: string, blobKey: string): Promise<{ url: string; expires_at: number }> {
    const expires = Date.now() + EXPORT_LINK_TTL_SECONDS * 1000;
    const presigned = await this.blobs.presignedGetUrl(blobKey, EXPORT_LINK_TTL_SECONDS);
    if (presigned) return { url: presigned, expires_at: expires };
    const query = new URLSearchParams({
      expires: String(expires),
      signature: await this.signer.sign(['export', exportId], expires),
    });
    return {
      url: `${this.origin()}/${API_PREFIX}/account/export/${exportId}/download?${query.toString()}`,
      expires_at: expires,
    };
  }

  /** Refuses an expired (403 link_expired) or altered (403 link_invalid) link. */
  async verify(exportId: string, expires: number, signature: string): Promise<void> {
    if (LinkSigner.hasExpired(expires)) {
      throw new AccountException(
        'link_expired',
        'This download link has expired: ask GET /account/export/{id} for a new one',
      );
    }
    if (!(await this.signer.matches(['export', exportId], expires, signature))) {
      throw new AccountException('link_invalid', 'This download link is not one the server made');
    }
  }

  /** PUBLIC_URL, else the address this server listens on; never the request's Host. */
  private origin(): string {
    if (this.config.publicUrl) return this.config.publicUrl;
    const address = (this.http.httpAdapter?.getHttpServer() as Server | undefined)?.address();
    if (!address || typeof address === 'string') return `http://localhost:${this.config.port}`;
    const wildcard = address.address === '0.0.0.0' || address.address === '::';
    const host = wildcard
      ? 'localhost'
      : address.family === 'IPv6'
        ? `[${address.address}]`
        : address.address;
    return `http://${host}:${address.port}`;
  }
}
