import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { BlobStore, type StoredBlob } from '../../common/blob-store/blob-store.js';
import { DeploymentSecretsRepository } from '../../common/secrets/deployment-secrets.repository.js';
import { LinkSigner } from '../../common/secrets/link-signer.js';
import { API_PREFIX } from '../../common/http/api-prefix.js';
import { publicOrigin } from '../../common/http/public-origin.js';
import { AppConfig } from '../../config/app-config.js';
import type { PluginVersion } from './entities/plugin-version.entity.js';
import { PluginCatalogException } from './plugin-catalog.errors.js';

/** How long a download link works. */
export const DOWNLOAD_TTL_SECONDS = 300;
const KEY_NAME = 'plugin_download_key';

/** What a files-driver download link carries besides the version id (its query string). */
export interface DownloadLink {
  user: string;
  expires: number;
  signature: string;
}

/**
 * Download links for plugin packages, valid five minutes. With S3 the bucket
 * serves a presigned URL (it checks the signature and expiry); with the files
 * driver the link points at our public package route, signed with an HMAC
 * over version, user and expiry under a per-deployment key, checked here.
 * Quarantine moves packages to new keys, so links already given out stop
 * working with either driver.
 */
@Injectable()
export class PluginDownloadsService {
  private readonly signer: LinkSigner;

  constructor(
    private readonly blobs: BlobStore,
    secrets: DeploymentSecretsRepository,
    private readonly config: AppConfig,
    private readonly http: HttpAdapterHost,
  ) {
    this.signer = new LinkSigner(secrets, KEY_NAME);
  }

  /** A link to `version`'s package for `userId`, and when it stops working (ms since epoch). */
  async linkFor(
    version: Pick<PluginVersion, 'id' | 'blobKey'>,
    userId: string,
  ): Promise<{ download_url: string; expires_at: number }> {
    const presigned = await this.blobs.presignedGetUrl(version.blobKey, DOWNLOAD_TTL_SECONDS);
    const expires = Date.now() + DOWNLOAD_TTL_SECONDS * 1000;
    if (presigned) return { download_url: presigned, expires_at: expires };
    const signature = await this.signer.sign([version.id, userId], expires);
    const query = new URLSearchParams({ user: userId, expires: String(expires), signature });
    return {
      download_url: `${this.publicOrigin()}/${API_PREFIX}/plugins/packages/${version.id}?${query.toString()}`,
      expires_at: expires,
    };
  }

  /** Refuses an expired or altered link (403); answers the user it was made for. */
  async verify(versionId: string, link: DownloadLink): Promise<string> {
    if (LinkSigner.hasExpired(link.expires)) {
      throw new PluginCatalogException('link_expired', 'this download link has expired: install again');
    }
    if (!(await this.signer.matches([versionId, link.user], link.expires, link.signature))) {
      throw new PluginCatalogException('link_invalid', 'this download link is not one the registry made');
    }
    return link.user;
  }

  /** The package bytes, or 404 when the package is gone (moved aside by a quarantine). */
  async open(blobKey: string): Promise<StoredBlob> {
    const blob = await this.blobs.get(blobKey);
    if (!blob) throw new PluginCatalogException('not_found', 'this package is no longer available');
    return blob;
  }

  private publicOrigin(): string {
    return publicOrigin(this.config, this.http);
  }
}
