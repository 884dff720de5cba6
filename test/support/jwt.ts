import { createHmac } from 'node:crypto';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Builds a JWT by hand, so tests can forge every kind of bad token. */
export function forgeJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: string,
  hmac: 'sha256' | 'sha512' | 'none' = 'sha256',
): string {
  const head = `${b64(header)}.${b64(payload)}`;
  if (hmac === 'none') return `${head}.`;
  return `${head}.${createHmac(hmac, secret).update(head).digest('base64url')}`;
}
