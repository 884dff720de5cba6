/**
 * Every error code a client can receive, with the one HTTP status each maps to.
 * Clients branch on `code`; people read `message`. The same situation gets the
 * same code and status whichever module raises it.
 */
export const ERROR_STATUS = {
  // 400
  validation_failed: 400,
  checksum_mismatch: 400,
  malformed_json: 400,
  invalid_cursor: 400,
  invalid_signature: 400,
  upload_incomplete: 400,
  limit_reached: 400,
  // A single sign-on's `state` that is unknown, altered, used already or older than 10 minutes
  sso_state_invalid: 400,
  // A one-time sign-in code that is unknown, used already or expired
  sso_code_invalid: 400,
  // A redirect_uri that is neither loopback, on PUBLIC_URL, nor in SSO_REDIRECT_URIS
  redirect_uri_not_allowed: 400,
  // An issuer whose discovery document or keys could not be fetched or are not valid
  sso_issuer_invalid: 400,
  plugin_checks_failed: 400,
  // Node's HTTP parser refused the request before it reached the app (bad header bytes, malformed request line)
  bad_request: 400,
  // 401
  unauthenticated: 401,
  // The identity provider's ID token failed a check (`reason`: signature, issuer, audience, nonce, expired)
  id_token_invalid: 401,
  // The identity provider (or GitHub) refused the sign-in or the code exchange
  sso_failed: 401,
  invalid_credentials: 401,
  token_expired: 401,
  session_ended: 401,
  // 402
  quota_exceeded: 402,
  spend_limit_reached: 402,
  payment_required: 402,
  // Every seat of the team's subscription is taken (members and pending invites): buy more with PATCH /teams/{id}/seats
  seats_exhausted: 402,
  // 403
  tier_required: 403,
  role_required: 403,
  forbidden: 403,
  link_expired: 403,
  link_invalid: 403,
  // The account's team requires single sign-on for its email domain: no password sign-in, no new API keys
  sso_required: 403,
  // The identity provider (or GitHub) did not vouch for the email address
  email_unverified: 403,
  // Deleting an account without a password needs a fresh SSO or GitHub sign-in (10 minutes): sign in again
  reauthentication_required: 403,
  // A team invitation was sent to another email address than the signed-in account's
  email_mismatch: 403,
  // 404
  not_found: 404,
  // 405: the path exists, the method does not (the Allow header lists the ones it has)
  method_not_allowed: 405,
  // 408: the request line and headers did not arrive within the server's headers timeout
  request_timeout: 408,
  // 409
  version_conflict: 409,
  duplicate: 409,
  plugin_id_taken: 409,
  already_reviewed: 409,
  // An external sign-in matched an existing account that is not linked yet: its password links it once
  link_required: 409,
  // A payment is still processing (a bank debit): installing again before it clears charges nothing
  payment_pending: 409,
  // Fewer seats than the team has members: remove members first
  seats_in_use: 409,
  // The team's last owner cannot leave or lose the owner role: make another member owner first
  last_owner: 409,
  // An export of this account is already queued or running: wait for it (GET /account/export/{id})
  export_in_progress: 409,
  // The account is not disabled pending erasure (never was, restored already, or its erasure has begun)
  erasure_not_pending: 409,
  // 413
  payload_too_large: 413,
  // 414: the request target is longer than Node's HTTP parser takes
  uri_too_long: 414,
  // 415: a body in a charset or Content-Encoding the server does not read
  unsupported_media_type: 415,
  // 416
  range_not_satisfiable: 416,
  // 429
  rate_limited: 429,
  // 431: more header bytes or header lines than Node's HTTP parser takes
  headers_too_large: 431,
  // 499 (nginx's "client closed request"): the client went away; nobody reads the body, the log does
  request_cancelled: 499,
  // A chat stream's last event when it was cancelled, or nobody resumed it within the grace period
  cancelled: 499,
  // 500
  internal_error: 500,
  // 502
  provider_unavailable: 502,
  // 503
  feature_not_configured: 503,
  service_unavailable: 503,
  database_unavailable: 503,
  storage_unavailable: 503,
  // 504
  provider_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/**
 * The code an error gets when whoever raised it named only a status (Nest's
 * built-in exceptions, body-parser, guards of libraries).
 */
export const DEFAULT_CODE_FOR_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthenticated',
  402: 'payment_required',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'duplicate',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  416: 'range_not_satisfiable',
  429: 'rate_limited',
  431: 'headers_too_large',
  500: 'internal_error',
  502: 'provider_unavailable',
  503: 'service_unavailable',
  504: 'provider_timeout',
};

export function codeForStatus(status: number): ErrorCode {
  return DEFAULT_CODE_FOR_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'validation_failed');
}
