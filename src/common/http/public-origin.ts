import type { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:net';
import type { AppConfig } from '../../config/app-config.js';

/**
 * The origin of absolute links given to clients: PUBLIC_URL (required in prod); in dev without
 * it, the address this server listens on. Never the request's Host: a client or a proxy can send
 * any, and a link with its signed query would send the client to whatever host that names.
 */
export function publicOrigin(config: AppConfig, http: HttpAdapterHost): string {
  if (config.publicUrl) return config.publicUrl;
  const server = http.httpAdapter?.getHttpServer() as Server | undefined;
  const address = server?.address();
  if (!address || typeof address === 'string') return `http://localhost:${config.port}`;
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
