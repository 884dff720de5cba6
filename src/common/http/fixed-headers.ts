import type { IncomingMessage, ServerResponse } from 'node:http';

type HeaderMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** One header a middleware sets (with its value) or removes (without). */
interface HeaderStep {
  name: string;
  value?: number | string | readonly string[];
}

/**
 * Runs `middleware` once, at start, against a stand-in request and response,
 * and returns what replays the headers it set and removed, in its order. For
 * middleware whose headers do not depend on the request (helmet's, with no
 * per-request CSP nonce), so each request pays for a few setHeader calls, not
 * for computing the same values again. Throws if the middleware does not
 * finish synchronously or fails: then it is not one of those.
 */
export function fixedHeaders(middleware: HeaderMiddleware): (res: ServerResponse) => void {
  const steps: HeaderStep[] = [];
  const recorder = {
    // The stand-in response has no headers yet (`vary` appends to an existing Vary).
    getHeader() {
      return undefined;
    },
    setHeader(name: string, value: number | string | readonly string[]) {
      steps.push({ name, value });
      return recorder;
    },
    removeHeader(name: string) {
      steps.push({ name });
    },
  };
  let finished = false;
  middleware({ headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, (err) => {
    if (err) throw err instanceof Error ? err : new Error('A fixed-header middleware failed', { cause: err });
    finished = true;
  });
  if (!finished) throw new Error('A fixed-header middleware must call next() synchronously');
  return (res) => {
    for (const { name, value } of steps) {
      if (value === undefined) res.removeHeader(name);
      else res.setHeader(name, value);
    }
  };
}
