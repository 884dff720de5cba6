import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { AppConfig } from '../../config/app-config.js';

/**
 * The origin absolute URLs given to clients and providers are built on: PUBLIC_URL (required in
 * prod); in dev without it, the address this server listens on. Never a request's Host, which a
 * client or a proxy can set to anything.
 */
@Injectable()
export class PublicOrigin {
  constructor(
    private readonly config: AppConfig,
    private readonly http: HttpAdapterHost,
  ) {}

  get(): string {
    if (this.config.publicUrl) return this.config.publicUrl;
    const server = this.http.httpAdapter?.getHttpServer() as Server | undefined;
    const address = server?.address();
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
