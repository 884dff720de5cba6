/** Where a finished sign-in may send the client back, besides loopback. */
export interface RedirectRules {
  /** The API's public origin (PUBLIC_URL, or the listen address in dev): web clients on it. */
  publicOrigin: string | undefined;
  /** SSO_REDIRECT_URIS: exact URIs (their query aside), e.g. a desktop app's custom scheme. */
  allowlist: readonly string[];
}

const MAX_LENGTH = 2048;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/** The URI without its query and fragment: what an allowlist entry is compared with. */
function withoutQuery(url: URL): string {
  const copy = new URL(url.href);
  copy.search = '';
  copy.hash = '';
  return copy.href;
}

/**
 * Why `uri` may not receive a sign-in's one-time code, or null when it may. Allowed: a
 * loopback `http://127.0.0.1:<any port>/…` or `http://[::1]:<port>/…` (a desktop app's
 * listener, RFC 8252: `localhost` is not, a name can resolve elsewhere), a URL on the public
 * origin, or an allowlisted URI. Never a fragment or credentials; the query is the client's own.
 */
export function redirectUriProblem(uri: string, rules: RedirectRules): string | null {
  if (uri.length > MAX_LENGTH) return `redirect_uri must be at most ${MAX_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'redirect_uri must be an absolute URI';
  }
  if (url.hash || uri.includes('#')) return 'redirect_uri must not have a fragment';
  if (url.username || url.password) return 'redirect_uri must not carry credentials';
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return null;
  if (rules.publicOrigin && url.origin === new URL(rules.publicOrigin).origin) return null;
  const allowed = rules.allowlist.some((entry) => {
    try {
      return withoutQuery(new URL(entry)) === withoutQuery(url);
    } catch {
      return false;
    }
  });
  if (allowed) return null;
  return (
    'redirect_uri is not allowed: use a loopback http://127.0.0.1:PORT/… address, a URL on this ' +
    "server's public origin, or one of the server's SSO_REDIRECT_URIS"
  );
}

/** `redirectUri` with `params` added to its query (the client's own query is kept). */
export function withParams(redirectUri: string, params: Record<string, string>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}
