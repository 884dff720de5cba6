/** Attributes that carry a raw URL, path or query (ids, tokens, search text): never exported as they are. */
const URL_KEYS = ['http.url', 'url.full'];
const PATH_KEYS = ['http.target', 'url.path'];
const DROPPED = [
  'url.query',
  'http.client_ip',
  'client.address',
  'net.sock.peer.addr',
  'network.peer.address',
];

/** SpanKind.SERVER in @opentelemetry/api. */
const SERVER = 1;

type Attributes = Record<string, unknown>;

const originOf = (value: unknown): string => {
  try {
    return new URL(String(value)).origin;
  } catch {
    return 'unknown';
  }
};

/**
 * Strips a finished span of what could identify a user or carry content: a
 * server span's path becomes its route template (`unmatched` for a 404), a
 * client span's URL (S3 keys hold user ids) its origin; queries and client
 * addresses go. Bodies, prompts and tokens are never recorded in the first
 * place (no instrumentation here captures them).
 */
export function scrubAttributes(kind: number, attributes: Attributes): void {
  const route = attributes['http.route'];
  const path = kind === SERVER ? (typeof route === 'string' ? route : 'unmatched') : undefined;
  for (const key of PATH_KEYS) {
    if (!(key in attributes)) continue;
    if (path === undefined) delete attributes[key];
    else attributes[key] = path;
  }
  for (const key of URL_KEYS) {
    if (key in attributes) attributes[key] = originOf(attributes[key]) + (path ?? '');
  }
  for (const key of DROPPED) delete attributes[key];
}
