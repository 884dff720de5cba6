import { SetMetadata } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config.js';

export const BODY_LIMIT_KEY = 'bodyLimit';

/**
 * How a route takes its body: parsed JSON (`req.body` an object), the raw
 * bytes (`req.body` a Buffer, for a signature over the exact bytes), or a
 * stream its handler reads itself (`req` as it arrives, never buffered).
 */
export type BodyKind = 'json' | 'raw' | 'stream';

/** A size as `64kb`, `1mb` (binary units: 1 kb = 1024 bytes), or bytes. */
export type BodySize = `${number}${'b' | 'kb' | 'mb'}` | number;

/** What a route declares; routes that declare nothing get JSON within JSON_BODY_LIMIT_BYTES. */
export interface BodyLimitSpec {
  kind: BodyKind;
  /** Bytes (or how to work them out from the config); undefined for a stream, which its handler limits. */
  limit?: BodySize | ((config: AppConfig) => number);
  /** Object keys plus array items a JSON body may hold (MAX_JSON_ENTRIES unless the route's valid bodies need more). */
  entries?: (config: AppConfig) => number;
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** Bytes of a `BodySize`; throws at start on a malformed one (a typo in a decorator). */
export function bodySizeBytes(size: BodySize): number {
  if (typeof size === 'number') return size;
  const match = /^(\d+(?:\.\d+)?)(b|kb|mb)$/i.exec(size);
  if (!match) throw new Error(`Not a body size: ${size} (write e.g. 64kb or 2mb)`);
  return Math.floor(Number(match[1]) * UNITS[match[2].toLowerCase()]);
}

/**
 * The largest body this route accepts, read only once its credentials are
 * valid (public routes: at once). A body over it is answered 413
 * `payload_too_large` from its Content-Length, or as soon as the bytes
 * received pass it, and the connection is closed. Without this decorator a
 * route gets the default JSON limit (JSON_BODY_LIMIT_BYTES).
 */
export const BodyLimit = (
  limit: BodySize | ((config: AppConfig) => number),
  kind: 'json' | 'raw' = 'json',
  options: { entries?: (config: AppConfig) => number } = {},
) => SetMetadata(BODY_LIMIT_KEY, { kind, limit, entries: options.entries } satisfies BodyLimitSpec);

/**
 * The handler reads the body itself, as a stream, and enforces its own limit
 * (a backup: the account's quota, 402). Still read only once the credentials
 * are valid.
 */
export const StreamedBody = () => SetMetadata(BODY_LIMIT_KEY, { kind: 'stream' } satisfies BodyLimitSpec);
