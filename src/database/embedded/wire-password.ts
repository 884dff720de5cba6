import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';

/** Codes a client may send, unframed, before its startup message (in place of the protocol version). */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
/** A password message ('p'): SASLInitialResponse, then SASLResponse. */
const PASSWORD_MESSAGE = 0x70;
/** What PostgreSQL itself accepts as a startup packet; a SASL message of ours is far shorter. */
const MAX_STARTUP_BYTES = 10_000;
const MAX_SASL_BYTES = 2_048;
/** PostgreSQL's authentication_timeout is a minute; a local client that knows the password needs milliseconds. */
const AUTH_TIMEOUT_MS = 10_000;
const ITERATIONS = 4096;
const MECHANISM = 'SCRAM-SHA-256';

/**
 * What the server keeps of its per-start password: SCRAM-SHA-256's stored and
 * server keys under a random salt, as PostgreSQL keeps a role's verifier.
 * The password itself never crosses the socket (the client proves it knows it).
 */
export class ScramVerifier {
  readonly salt = randomBytes(16);
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;

  constructor(password: string) {
    const salted = pbkdf2Sync(password, this.salt, ITERATIONS, 32, 'sha256');
    this.storedKey = sha256(hmac(salted, 'Client Key'));
    this.serverKey = hmac(salted, 'Server Key');
  }
}

/** What the final proof is checked against, once the server-first message is sent. */
interface Exchange {
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  /** The GS2 header the client sent, which `c=` of its final message must repeat (base64). */
  channel: string;
}

/**
 * Makes a TCP client of the embedded database prove it knows the password
 * before anything reaches the database: it answers an encryption request with
 * 'N' (no TLS, as before), takes the startup message, runs a SCRAM-SHA-256
 * exchange, and only then calls `accepted` with the startup message and
 * whatever followed it (for the wire server to pass on as if they had just
 * arrived). A wrong proof, any other message, or silence past the deadline
 * gets a FATAL error (28P01 / 08P01) and the socket is closed: the client
 * never talks to the database.
 */
export function requirePassword(
  socket: Socket,
  verifier: ScramVerifier,
  accepted: (bytes: Buffer) => void,
  closed: () => void,
): void {
  new PasswordHandshake(socket, verifier, accepted, closed).start();
}

/**
 * One client's way through `requirePassword`: encryption requests, the startup
 * message, then the two SASL messages. Each step reads one message off `pending`
 * and says whether another may follow; a refusal or acceptance ends it (`done`).
 */
class PasswordHandshake {
  private pending: Buffer = Buffer.alloc(0);
  private startup: Buffer | undefined;
  private user = '';
  private exchange: Exchange | undefined;
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onData = (data: Buffer) => this.receive(data);

  constructor(
    private readonly socket: Socket,
    private readonly verifier: ScramVerifier,
    private readonly accepted: (bytes: Buffer) => void,
    private readonly closed: () => void,
  ) {}

  start(): void {
    this.timer = setTimeout(() => this.refuse('08P01', 'authentication timed out'), AUTH_TIMEOUT_MS);
    this.timer.unref();
    this.socket.on('data', this.onData);
    this.socket.on('error', () => this.socket.destroy());
    this.socket.once('close', () => {
      if (this.done) return;
      this.finish();
      this.closed();
    });
  }

  private receive(data: Buffer): void {
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data;
    let more = true;
    while (more && !this.done) {
      more = this.startup ? this.readPasswordMessage(this.startup) : this.readStartup();
    }
  }

  /** Answers an encryption request 'N'; takes the startup message and asks for SCRAM-SHA-256. */
  private readStartup(): boolean {
    if (this.pending.length < 8) return false;
    const length = this.pending.readInt32BE(0);
    const code = this.pending.readInt32BE(4);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.socket.write('N');
      this.pending = this.pending.subarray(8);
      return true;
    }
    if (code === CANCEL_REQUEST) return this.refuse('08P01', 'cancel requests are not supported');
    if (code !== PROTOCOL_3 || length < 8 || length > MAX_STARTUP_BYTES) {
      return this.refuse('08P01', 'invalid startup packet');
    }
    if (this.pending.length < length) return false;
    this.startup = Buffer.from(this.pending.subarray(0, length));
    this.user = startupParameter(this.startup, 'user') ?? '';
    this.pending = this.pending.subarray(length);
    this.socket.write(authRequest(10, Buffer.from(`${MECHANISM}\0\0`)));
    return true;
  }

  /** A password message: the client-first one while no exchange is under way, then the client-final one. */
  private readPasswordMessage(startup: Buffer): boolean {
    if (this.pending.length < 5) return false;
    const length = this.pending.readInt32BE(1);
    if (this.pending[0] !== PASSWORD_MESSAGE || length < 4 || length > MAX_SASL_BYTES) {
      return this.refuse('08P01', 'expected a SASL response');
    }
    if (this.pending.length < length + 1) return false;
    const body = this.pending.subarray(5, length + 1);
    this.pending = this.pending.subarray(length + 1);
    if (!this.exchange) {
      this.exchange = serverFirst(body, this.verifier);
      if (!this.exchange) return this.fail();
      this.socket.write(authRequest(11, Buffer.from(this.exchange.serverFirst)));
      return true;
    }
    const signature = checkClientFinal(body.toString('utf8'), this.exchange, this.verifier);
    if (!signature) return this.fail();
    this.finish();
    this.socket.write(authRequest(12, Buffer.from(`v=${signature}`)));
    this.accepted(Buffer.concat([startup, this.pending]));
    return false;
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.socket.off('data', this.onData);
  }

  /** Sends a FATAL error and closes; false, so a step can return it (nothing more is read). */
  private refuse(code: string, message: string): false {
    if (this.done) return false;
    this.finish();
    this.socket.end(errorResponse(code, message), () => this.socket.destroy());
    this.closed();
    return false;
  }

  private fail(): false {
    return this.refuse('28P01', `password authentication failed for user "${this.user}"`);
  }
}

/** SASLInitialResponse: the mechanism, then the client-first message; answers the server-first one. */
function serverFirst(body: Buffer, verifier: ScramVerifier): Exchange | undefined {
  const nul = body.indexOf(0);
  if (nul < 0 || body.subarray(0, nul).toString() !== MECHANISM || body.length < nul + 5) return undefined;
  const size = body.readInt32BE(nul + 1);
  const message = body.subarray(nul + 5).toString('utf8');
  if (size !== Buffer.byteLength(message)) return undefined;
  // GS2 header: "n" (no channel binding) or "y" (the client could bind, thinks we cannot); we offer
  // no SCRAM-SHA-256-PLUS, so "p=..." is refused. No authorization identity.
  const match = /^([ny]),,(n=[^,]*,r=([\x21-\x2b\x2d-\x7e]+)(?:,.*)?)$/.exec(message);
  if (!match) return undefined;
  const nonce = match[3] + randomBytes(18).toString('base64');
  return {
    clientFirstBare: match[2],
    serverFirst: `r=${nonce},s=${verifier.salt.toString('base64')},i=${ITERATIONS}`,
    nonce,
    channel: `${match[1]},,`,
  };
}

/** Checks the client-final message's proof; answers the server signature (base64), or undefined. */
function checkClientFinal(message: string, exchange: Exchange, verifier: ScramVerifier): string | undefined {
  const at = message.lastIndexOf(',p=');
  if (at < 0) return undefined;
  const withoutProof = message.slice(0, at);
  const proofBase64 = message.slice(at + 3);
  const [channel, nonce] = withoutProof.split(',');
  if (
    channel !== `c=${Buffer.from(exchange.channel).toString('base64')}` ||
    nonce !== `r=${exchange.nonce}`
  ) {
    return undefined;
  }
  const authMessage = `${exchange.clientFirstBare},${exchange.serverFirst},${withoutProof}`;
  const proof = Buffer.from(proofBase64, 'base64');
  if (proof.length !== verifier.storedKey.length) return undefined;
  const clientSignature = hmac(verifier.storedKey, authMessage);
  const clientKey = Buffer.alloc(proof.length);
  for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
  if (!timingSafeEqual(sha256(clientKey), verifier.storedKey)) return undefined;
  return hmac(verifier.serverKey, authMessage).toString('base64');
}

/** A startup message's parameter (`user`, `database`, ...), if it names one. */
function startupParameter(startup: Buffer, name: string): string | undefined {
  const fields = startup.subarray(8).toString('utf8').split('\0');
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** An Authentication message ('R') of the given kind: 10 SASL, 11 SASL continue, 12 SASL final. */
function authRequest(kind: number, data: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header[0] = 0x52;
  header.writeInt32BE(8 + data.length, 1);
  header.writeInt32BE(kind, 5);
  return Buffer.concat([header, data]);
}

/** A FATAL ErrorResponse ('E') with its SQLSTATE, as PostgreSQL sends one before closing. */
function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header[0] = 0x45;
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();
