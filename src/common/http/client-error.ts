import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ERROR_STATUS, type ErrorCode } from '../errors/error-codes.js';

/** What Node's HTTP parser attaches to the error it emits as `clientError`. */
interface ParserError extends Error {
  code?: string;
  rawPacket?: Buffer;
}

/** How long a refused connection still takes bytes a client had in flight before it is destroyed. */
const LINGER_MS = 2000;
/** The request line is judged from the bytes of the chunk the parser choked on; this much of it is enough. */
const SCAN_BYTES = 64 * 1024;
const REQUEST_LINE_START = /^[A-Z]{1,20} /;
const REQUEST_ID_HEADER = /\r\nx-request-id:[ \t]*([A-Za-z0-9._:-]{1,128})[ \t]*\r\n/i;

/** The code, message and status for a refusal by Node's HTTP parser (or its timeouts). */
export function describeClientError(err: ParserError): { code: ErrorCode; message: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return requestLineTooLong(err.rawPacket)
        ? { code: 'uri_too_long', message: 'The request line (method and URL) exceeds 16 KiB' }
        : {
            code: 'headers_too_large',
            message: 'The request line and headers exceed 16 KiB together (or there are too many headers)',
          };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { code: 'payload_too_large', message: 'The chunk extensions of the body are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', message: 'The request did not arrive in time' };
    case undefined:
    default:
      return {
        code: 'bad_request',
        message: `The request is not valid HTTP/1.1 (${parserReason(err)})`,
      };
  }
}

/**
 * True when the request line alone fills the bytes the parser refused: the
 * chunk starts with a method and a space and holds no line end in its first
 * 8 KiB. (Node counts the URL toward the 16 KiB header limit, so a long path
 * and long headers fail alike; only the bytes tell them apart.)
 */
function requestLineTooLong(packet: Buffer | undefined): boolean {
  if (!packet) return false;
  const head = packet.subarray(0, SCAN_BYTES).toString('latin1');
  if (!REQUEST_LINE_START.test(head)) return false;
  const end = head.indexOf('\r\n');
  return end < 0 || end > 8 * 1024;
}

/** llhttp's reason ("Invalid header value char"), never the bytes themselves. */
function parserReason(err: ParserError): string {
  const reason = err.message.replace(/^Parse Error: /, '');
  return /^[\w .,'-]{1,80}$/.test(reason) ? reason : (err.code ?? 'unparseable');
}

/**
 * Answers what Node's HTTP parser refuses (bad header bytes, headers or URL
 * over 16 KiB, a malformed request line, a request that never finished) in
 * the one error shape, with a code, a request id (the client's X-Request-Id
 * when the refused bytes carry a sane one) and one log line, then closes the
 * connection. Without this listener Node writes a bare `400`/`431` with no
 * body. A socket whose response already started, or that cannot be written,
 * is only destroyed.
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  const refused = new WeakSet<Socket>();
  server.on('clientError', (err: ParserError, socket: Socket) => {
    if (refused.has(socket)) return;
    refused.add(socket);
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const { code, message } = describeClientError(err);
    const status = ERROR_STATUS[code];
    const requestId =
      REQUEST_ID_HEADER.exec(err.rawPacket?.subarray(0, SCAN_BYTES).toString('latin1') ?? '')?.[1] ??
      randomUUID();
    logger.info(
      { request_id: requestId, res: { status }, code, parser_error: err.code },
      'request refused by the HTTP parser',
    );
    refuse(socket, status, JSON.stringify(errorBody(status, code, message, requestId)), requestId);
  });
}

function errorBody(status: number, code: string, message: string, requestId: string) {
  return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message, request_id: requestId };
}

/** Writes the refusal and closes: the parser is done with this socket, so what else arrives is drained, not parsed. */
function refuse(socket: Socket, status: number, body: string, requestId: string): void {
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
  socket.resume();
}
