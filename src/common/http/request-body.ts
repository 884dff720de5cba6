import { HttpException } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { AppException } from '../errors/app.exception.js';
import { findInputProblem } from '../input/input-limits.js';
import type { BodyKind } from './body-limit.decorator.js';

const KIB = 1024;
const MIB = 1024 * 1024;

/** As body-parser decides (type-is `hasBody`): a Transfer-Encoding, or a numeric Content-Length. */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || !isNaN(Number(req.headers['content-length']));
}

/**
 * For a request with a body: should the response start before the whole body
 * has arrived (a 401 before it is read, a 413, a 404, a backup refused from
 * its Content-Length), it says `Connection: close`, and the connection is
 * closed once the response is flushed instead of the rest of the body being
 * read to keep it alive. A body read to its end keeps it alive. Only requests
 * with a body pay for this (one property on their response).
 */
export function closeIfAnsweredEarly(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  // Node's implicit header (res.end() without writeHead) goes through res.writeHead as well.
  res.writeHead = (...args: unknown[]) => {
    if (!req.complete && !res.headersSent) {
      res.setHeader('Connection', 'close');
      lingerWhenClosing(req.socket);
    }
    return writeHead(...args);
  };
}

/** How long, and how many bytes, a closing connection still takes from a client that keeps sending. */
const LINGER_MS = 2000;
const LINGER_BYTES = 4 * MIB;

/**
 * Node closes a `Connection: close` response's socket (`destroySoon`) as soon
 * as the response is flushed. With body bytes still arriving, closing then
 * resets the connection, and a client still writing its body sees the reset
 * and loses the response it had not read yet. So the server says it is done
 * (FIN after the response) and discards what the client already had in
 * flight until the client closes its side, at most LINGER_MS and
 * LINGER_BYTES, then closes (a lingering close, as nginx does).
 */
function lingerWhenClosing(socket: Socket | null): void {
  if (!socket || socket.destroySoon !== Socket.prototype.destroySoon) return;
  socket.destroySoon = () => {
    let discarded = 0;
    const close = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(close, LINGER_MS);
    timer.unref();
    socket.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > LINGER_BYTES) close();
    });
    socket.once('end', close);
    socket.once('close', () => clearTimeout(timer));
    socket.end();
    socket.resume();
  };
}

/** The limit a route's body is read under. */
export interface RouteBody {
  kind: BodyKind;
  /** Bytes; Infinity for a stream (its handler limits it). */
  limit: number;
  /** Object keys plus array items a JSON body may hold; MAX_JSON_ENTRIES when unset. */
  entries?: number;
}

/**
 * Reads a request's body under `route`'s limit and sets `req.body`: parsed
 * JSON (when the Content-Type is application/json; otherwise the body is left
 * unread and `req.body` undefined, as body-parser does), or the raw bytes.
 * A stream is left to its handler. Refuses with 413 `payload_too_large` from
 * the Content-Length before reading a byte, or as soon as the bytes received
 * (decompressed, when Content-Encoding says so) pass the limit, and then stops
 * reading. Then the input limits (depth, keys, text) are checked on the JSON.
 */
export async function readRequestBody(req: IncomingMessage, route: RouteBody): Promise<void> {
  const declared = Number(req.headers['content-length']);
  if (declared > route.limit) throw tooLarge(route.limit);
  if (route.kind === 'json' && !isJson(req)) return;
  if (route.kind === 'stream') return;
  const bytes = await collect(decoded(req), route.limit);
  const body = route.kind === 'raw' ? bytes : parseJson(bytes, req);
  const problem = findInputProblem(body, 'body', route.entries);
  if (problem) throw new AppException('validation_failed', problem.message);
  (req as IncomingMessage & { body?: unknown }).body = body;
}

function tooLarge(limit: number): AppException {
  return new AppException('payload_too_large', `Request body exceeds the limit of ${describeBytes(limit)}`);
}

/** `1 MiB`, `64 KiB`, or bytes when the limit is not a whole number of either. */
export function describeBytes(bytes: number): string {
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KiB`;
  return `${bytes} bytes`;
}

function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (!type) return false;
  const semicolon = type.indexOf(';');
  return (semicolon < 0 ? type : type.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}

/** The body as sent, decompressed when its Content-Encoding says so (the limit counts decompressed bytes). */
function decoded(req: IncomingMessage): Readable {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  const decoder =
    encoding === 'identity'
      ? undefined
      : encoding === 'gzip'
        ? createGunzip()
        : encoding === 'deflate'
          ? createInflate()
          : encoding === 'br'
            ? createBrotliDecompress()
            : null;
  if (decoder === undefined) return req;
  if (decoder === null) {
    throw new AppException(
      'unsupported_media_type',
      `Unsupported Content-Encoding "${encoding}" (identity, gzip, deflate or br)`,
    );
  }
  req.on('error', (err) => decoder.destroy(err));
  // A client that goes away mid-body ends the request without an error: say so to the reader.
  req.on('close', () => {
    if (!req.complete) decoder.destroy(interrupted());
  });
  return req.pipe(decoder);
}

function interrupted(): AppException {
  return new AppException('upload_incomplete', 'The request body was interrupted before its end');
}

/**
 * The stream's bytes, or a 413 as soon as they pass `limit`: reading stops
 * there (the rest is never read; the response closes the connection).
 */
function collect(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (err: Error | undefined) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (!err) return resolve(Buffer.concat(chunks, received));
      stream.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) return finish(tooLarge(limit));
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = (err: Error & { code?: string }) =>
      finish(
        err instanceof HttpException
          ? err
          : err.code?.startsWith('Z_')
            ? new AppException('validation_failed', 'The body is not what its Content-Encoding says')
            : interrupted(),
      );
    const onClose = () => finish(interrupted());
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/**
 * JSON as body-parser's strict mode takes it: an empty body is `{}`; only an
 * object or an array at the top; UTF-8 (a byte order mark is skipped).
 */
function parseJson(bytes: Buffer, req: IncomingMessage): unknown {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) {
    throw new AppException(
      'unsupported_media_type',
      `Unsupported charset "${charset.toUpperCase()}" (UTF-8 only)`,
    );
  }
  if (bytes.length === 0) return {};
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') throw malformed();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed();
  }
}

function malformed(): AppException {
  return new AppException('malformed_json', 'Malformed JSON in request body');
}
