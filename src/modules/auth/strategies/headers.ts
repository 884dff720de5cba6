import type { IncomingHttpHeaders } from 'node:http';
import { API_KEY_PREFIX } from '../auth.types.js';

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^\s*(\S+)\s+(\S+)/.exec(headers.authorization ?? '');
  return match && match[1].toLowerCase() === 'bearer' ? match[2] : undefined;
}

/** An access token from `Authorization: Bearer <token>` (an API key sent that way is not one), or null. */
export function accessTokenFrom(headers: IncomingHttpHeaders): string | null {
  const token = bearerToken(headers);
  return token && !token.startsWith(API_KEY_PREFIX) ? token : null;
}

/** An API key from `X-API-Key`, or from `Authorization: Bearer adv_…`. */
export function apiKeyFrom(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const auth = headers.authorization;
  if (auth?.startsWith('Bearer ') && auth.slice(7).startsWith(API_KEY_PREFIX)) return auth.slice(7);
  return undefined;
}

/** The part of an API key its owner sees in the key list (and that failed attempts are counted by). */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 8);
}
