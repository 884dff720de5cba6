/**
 * Why a strategy refused credentials it was given. Strategies report the
 * reason; each transport words it (the HTTP guard in CredentialsService, the
 * socket handshakes in SocketAuthService), so both keep their own messages.
 */
export type Refusal =
  'expired' | 'invalid' | 'not_access_token' | 'session_ended' | 'api_key_too_long' | 'api_key_unknown';

/**
 * The reason of a failed run of the strategy chain, from the failures passport
 * collected (one per strategy): ours are Refusal strings; passport-jwt's are
 * jsonwebtoken's errors (or "No auth token" when it found none).
 */
export function refusalOf(failures: unknown): Refusal {
  const list: unknown[] = Array.isArray(failures) ? failures : [failures];
  const ours = list.find((f): f is Refusal => typeof f === 'string');
  if (ours) return ours;
  return list.some((f) => (f as Error | undefined)?.name === 'TokenExpiredError') ? 'expired' : 'invalid';
}
