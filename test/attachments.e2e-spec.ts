import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { BlobStore } from '../src/common/blob-store/blob-store.js';
import { AttachmentsService } from '../src/modules/storage/attachments.service.js';
import { StorageAccountData } from '../src/modules/storage/storage.account-data.js';
import { startMultipartS3 } from './support/s3-multipart.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { newUser, type TestUser } from './support/users.js';
import { connectSocket } from './support/wait.js';

const MIB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A large file's bytes, made on demand a MiB at a time (never held whole): a random block with
 * the MiB's index written into it, so every MiB differs and any byte can be produced again.
 */
class Content {
  private readonly block = randomBytes(MIB);
  constructor(readonly size: number) {}

  private mib(index: number): Buffer {
    const chunk = Buffer.from(this.block);
    chunk.writeUInt32BE(index, 0);
    return chunk;
  }

  /** Bytes [start, end) as buffers of at most 1 MiB. */
  *slice(start: number, end: number): Generator<Buffer> {
    for (let at = start; at < end;) {
      const index = Math.floor(at / MIB);
      const from = at - index * MIB;
      const to = Math.min(MIB, end - index * MIB);
      yield this.mib(index).subarray(from, to);
      at += to - from;
    }
  }

  bytes(start: number, end: number): Buffer {
    return Buffer.concat([...this.slice(start, end)]);
  }

  sha256(): string {
    const hash = createHash('sha256');
    for (const chunk of this.slice(0, this.size)) hash.update(chunk);
    return hash.digest('hex');
  }
}

interface Answer {
  status: number;
  etag?: string;
  body: string;
}

/**
 * A PUT of `chunks` to a URL (presigned S3 or our signed route), streamed; with `cutAfter` the
 * connection is destroyed once that many bytes were written (a dropped laptop connection).
 */
function put(
  url: string,
  headers: Record<string, string>,
  chunks: Iterable<Buffer>,
  length: number,
  cutAfter?: number,
): Promise<Answer | 'cut'> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'PUT',
        headers: { ...headers, 'content-length': String(length) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, body }));
      },
    );
    req.on('error', (err) => (cutAfter !== undefined ? resolve('cut') : reject(err)));
    let sent = 0;
    const source = Readable.from(chunks);
    source.on('data', (chunk: Buffer) => {
      if (cutAfter !== undefined && sent + chunk.length > cutAfter) {
        source.destroy();
        req.destroy();
        return resolve('cut');
      }
      sent += chunk.length;
      if (!req.write(chunk)) {
        source.pause();
        req.once('drain', () => source.resume());
      }
    });
    source.on('end', () => req.end());
  });
}

/** GET of a download URL, hashed as it streams; the bytes themselves only when `keep`. */
function get(url: string, headers: Record<string, string> = {}, keep = false) {
  return new Promise<{
    status: number;
    sha256: string;
    size: number;
    body: Buffer;
    headers: Record<string, unknown>;
  }>((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, headers },
      (res) => {
        const hash = createHash('sha256');
        const kept: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          hash.update(c);
          size += c.length;
          if (keep) kept.push(c);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            sha256: hash.digest('hex'),
            size,
            body: Buffer.concat(kept),
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

interface Part {
  part_number: number;
  offset: number;
  size_bytes: number;
  url: string;
  headers: Record<string, string>;
}
interface Upload {
  attachment_id: string;
  expires_at: number;
  upload: { method: string; url: string; headers: Record<string, string>; expires_at: number } | null;
  parts: Part[] | null;
}

describe.each(['files', 's3'] as const)('attachments on the %s blob driver', (driver) => {
  let t: TestApp;
  // s3rver taught the multipart calls it lacks (list, abort), so an abandoned upload can be aborted as on S3.
  let s3: Awaited<ReturnType<typeof startMultipartS3>> | undefined;
  const sockets: Socket[] = [];
  const env = () => ({
    ...(s3?.env ?? {}),
    RATE_LIMIT_ENABLED: 'false',
    ATTACHMENT_MULTIPART_BYTES: String(8 * MIB),
    ATTACHMENT_PART_BYTES: String(8 * MIB),
    ATTACHMENT_MAX_PENDING: '3',
  });
  beforeAll(async () => {
    s3 = driver === 's3' ? await startMultipartS3('adiuva-attachments') : undefined;
    t = await startTestApp({ env: env() });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.close();
    await s3?.stop();
  });

  const api = (app = t) => request(app.url);
  const newRecord = async (u: TestUser, app = t) => {
    const bytes = randomBytes(64);
    const res = await api(app)
      .post('/api/v1/storage/records')
      .set(u.auth)
      .send({ table: 'notes', blob: bytes.toString('base64'), checksum: sha(bytes) })
      .expect(201);
    return (res.body as { id: string }).id;
  };
  const used = async (u: TestUser, app = t) =>
    ((await api(app).get('/api/v1/storage/usage').set(u.auth).expect(200)).body as { used_bytes: number })
      .used_bytes;
  const create = (u: TestUser, body: Record<string, unknown>, app = t) =>
    api(app).post('/api/v1/storage/attachments').set(u.auth).send(body);
  const complete = (u: TestUser, id: string, parts?: Array<{ part_number: number; etag: string }>, app = t) =>
    api(app)
      .post(`/api/v1/storage/attachments/${id}/complete`)
      .set(u.auth)
      .send(parts ? { parts } : {});
  /** Uploads each part whole; answers their ETags. */
  const putParts = async (content: Content, parts: Part[]) => {
    const etags: Array<{ part_number: number; etag: string }> = [];
    for (const part of parts) {
      const end = part.offset + part.size_bytes;
      const answer = await put(part.url, part.headers, content.slice(part.offset, end), part.size_bytes);
      expect(answer).toMatchObject({ status: 200, etag: expect.any(String) });
      etags.push({ part_number: part.part_number, etag: (answer as Answer).etag! });
    }
    return etags;
  };
  const keyOf = (u: TestUser, id: string) => `${u.id}/attachments/${id}`;
  /** What the store holds for an attachment: the object, and any unfinished upload of it. */
  const stored = async (u: TestUser, id: string) => {
    const blobs = t.app.get(BlobStore);
    const unfinished = [];
    for await (const write of blobs.listUnfinished()) if (write.key === keyOf(u, id)) unfinished.push(write);
    return { object: await blobs.head(keyOf(u, id)), unfinished: unfinished.length };
  };

  it('200 MiB in parts: cut after two parts, resumed, completed, downloaded whole and with Range, checksum verified', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const recordId = await newRecord(u);
    const before = await used(u);
    const content = new Content(200 * MIB);
    const sum = content.sha256();
    const phone = await connectSocket(t.url, u.tokens.access_token, sockets);
    const pushed = new Promise<Record<string, unknown>>((resolve) => phone.once('storage:changed', resolve));

    const res = await create(u, {
      record_id: recordId,
      size_bytes: content.size,
      sha256: sum,
      content_type: 'video/mp4',
    }).expect(201);
    const plan = res.body as Upload;
    expect(plan.upload).toBeNull();
    expect(plan.parts).toHaveLength(25);
    expect(await used(u)).toBe(before + content.size); // reserved at once

    // Two whole parts, then the third is cut halfway: the connection drops.
    const parts = plan.parts!;
    const first = await putParts(content, parts.slice(0, 2));
    const third = parts[2];
    const cut = await put(
      third.url,
      third.headers,
      content.slice(third.offset, third.offset + third.size_bytes),
      third.size_bytes,
      3 * MIB,
    );
    expect(cut).toBe('cut');
    // Completing now is refused (parts missing) and leaves the upload open.
    const early = await complete(u, plan.attachment_id, first).expect(400);
    expect(early.body).toMatchObject({ code: 'upload_incomplete' });

    // Resume at the last whole part: part 3 again, then the rest.
    const rest = await putParts(content, parts.slice(2));
    const done = await complete(u, plan.attachment_id, [...first, ...rest]).expect(200);
    expect(done.body).toMatchObject({
      id: plan.attachment_id,
      record_id: recordId,
      size_bytes: content.size,
      sha256: sum,
      status: 'complete',
      content_type: 'video/mp4',
      completed_at: expect.any(Number),
    });
    expect(await used(u)).toBe(before + content.size); // the reservation became the usage, counted once
    expect(await pushed).toEqual({
      id: plan.attachment_id,
      table: 'attachments',
      version: 1,
      op: 'upsert',
      record_id: recordId,
    });

    const asked = Date.now();
    const link = (
      await api().get(`/api/v1/storage/attachments/${plan.attachment_id}`).set(u.auth).expect(200)
    ).body as {
      download_url: string;
      expires_at: number;
    };
    // Five minutes after a moment between the request's sending and its answer (one clock).
    expect(link.expires_at).toBeGreaterThan(asked);
    expect(link.expires_at).toBeLessThanOrEqual(Date.now() + 300_000);
    const whole = await get(link.download_url);
    expect(whole).toMatchObject({ status: 200, size: content.size, sha256: sum });
    const from = 100 * MIB + 12_345;
    const ranged = await get(link.download_url, { Range: `bytes=${from}-${from + MIB - 1}` }, true);
    expect(ranged.status).toBe(206);
    expect(ranged.body.equals(content.bytes(from, from + MIB))).toBe(true);

    const listed = await api().get(`/api/v1/storage/records/${recordId}/attachments`).set(u.auth).expect(200);
    expect(listed.body).toEqual({
      attachments: [expect.objectContaining({ id: plan.attachment_id, status: 'complete' })],
    });
  }, 240_000);

  it('a whole file in one PUT; Content-Range resumes it on the files driver', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const recordId = await newRecord(u);
    const bytes = randomBytes(3 * MIB);
    const plan = (
      await create(u, { record_id: recordId, size_bytes: bytes.length, sha256: sha(bytes) }).expect(201)
    ).body as Upload;
    expect(plan.parts).toBeNull();
    const up = plan.upload!;
    if (driver === 'files') {
      // The first MiB, acknowledged; then the rest from where it stopped.
      const head = await put(
        up.url,
        { ...up.headers, 'content-range': `bytes 0-${MIB - 1}/${bytes.length}` },
        [bytes.subarray(0, MIB)],
        MIB,
      );
      expect(head).toMatchObject({ status: 200 });
      const tail = await put(
        up.url,
        { ...up.headers, 'content-range': `bytes ${MIB}-${bytes.length - 1}/${bytes.length}` },
        [bytes.subarray(MIB)],
        bytes.length - MIB,
      );
      expect(tail).toMatchObject({ status: 200 });
    } else {
      expect(up.headers['x-amz-checksum-sha256']).toBe(Buffer.from(sha(bytes), 'hex').toString('base64'));
      expect(await put(up.url, up.headers, [bytes], bytes.length)).toMatchObject({ status: 200 });
    }
    await complete(u, plan.attachment_id).expect(200);
    const link = (
      await api().get(`/api/v1/storage/attachments/${plan.attachment_id}`).set(u.auth).expect(200)
    ).body as { download_url: string };
    expect(await get(link.download_url)).toMatchObject({ status: 200, sha256: sha(bytes) });
  });

  it('wrong bytes are refused with checksum_mismatch and nothing is counted or kept', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const recordId = await newRecord(u);
    const before = await used(u);
    const bytes = randomBytes(MIB);
    const wrong = Buffer.from(bytes);
    wrong[1000] ^= 1;
    const plan = (
      await create(u, { record_id: recordId, size_bytes: bytes.length, sha256: sha(bytes) }).expect(201)
    ).body as Upload;
    const answer = (await put(plan.upload!.url, plan.upload!.headers, [wrong], wrong.length)) as Answer;
    if (driver === 'files') {
      // Hashed on the way in: refused by the upload itself.
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'checksum_mismatch' });
    } else if (answer.status === 200) {
      // s3rver does not check x-amz-checksum-sha256 (S3 does, with 400 BadDigest): complete reads back and refuses.
      const refused = await complete(u, plan.attachment_id).expect(400);
      expect(refused.body).toMatchObject({ code: 'checksum_mismatch' });
    } else {
      expect(answer.status).toBe(400);
    }
    expect(await used(u)).toBe(before);
    await api().get(`/api/v1/storage/attachments/${plan.attachment_id}`).set(u.auth).expect(404);
    expect(await stored(u, plan.attachment_id)).toEqual({ object: null, unfinished: 0 });

    // In parts, every part the right size but one byte wrong: refused at complete after reading back.
    const content = new Content(12 * MIB);
    const multi = (
      await create(u, { record_id: recordId, size_bytes: content.size, sha256: content.sha256() }).expect(201)
    ).body as Upload;
    const parts = multi.parts!;
    const etags = await putParts(content, parts.slice(0, 1));
    const last = parts[1];
    const tampered = content.bytes(last.offset, last.offset + last.size_bytes);
    tampered[0] ^= 1;
    const answered = (await put(last.url, last.headers, [tampered], tampered.length)) as Answer;
    etags.push({ part_number: 2, etag: answered.etag! });
    const refused = await complete(u, multi.attachment_id, etags).expect(400);
    expect(refused.body).toMatchObject({ code: 'checksum_mismatch' });
    expect(await used(u)).toBe(before);
    expect(await stored(u, multi.attachment_id)).toEqual({ object: null, unfinished: 0 });
  });

  it('another account’s attachment or record is a 404 everywhere', async () => {
    const owner = await newUser(t, { tier: 'pro' });
    const other = await newUser(t, { tier: 'pro' });
    const recordId = await newRecord(owner);
    const bytes = randomBytes(1000);
    const plan = (
      await create(owner, { record_id: recordId, size_bytes: bytes.length, sha256: sha(bytes) }).expect(201)
    ).body as Upload;
    await create(other, { record_id: recordId, size_bytes: 10, sha256: sha(bytes) }).expect(404);
    await api().get(`/api/v1/storage/attachments/${plan.attachment_id}`).set(other.auth).expect(404);
    await complete(other, plan.attachment_id).expect(404);
    await api().delete(`/api/v1/storage/attachments/${plan.attachment_id}`).set(other.auth).expect(404);
    await api().get(`/api/v1/storage/records/${recordId}/attachments`).set(other.auth).expect(404);
    // Still the owner's, untouched.
    const listed = await api()
      .get(`/api/v1/storage/records/${recordId}/attachments`)
      .set(owner.auth)
      .expect(200);
    expect((listed.body as { attachments: unknown[] }).attachments).toHaveLength(1);
  });

  it('quota: reserved at create (402 past the tier), freed by delete, by the record’s deletion and by the sweep', async () => {
    const u = await newUser(t, { tier: 'pro' }); // 5 GB
    const recordId = await newRecord(u);
    const before = await used(u);
    const big = 3 * 1024 * MIB;
    const first = (
      await create(u, { record_id: recordId, size_bytes: big, sha256: sha(Buffer.from('a')) }).expect(201)
    ).body as Upload;
    expect(await used(u)).toBe(before + big);
    const refused = await create(u, {
      record_id: recordId,
      size_bytes: big,
      sha256: sha(Buffer.from('b')),
    }).expect(402);
    expect(refused.body).toMatchObject({ code: 'quota_exceeded' });
    await api().delete(`/api/v1/storage/attachments/${first.attachment_id}`).set(u.auth).expect(200);
    expect(await used(u)).toBe(before);
    expect(await stored(u, first.attachment_id)).toEqual({ object: null, unfinished: 0 });

    // Uploads in flight are limited per account (3 here).
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push(
        (
          (
            await create(u, {
              record_id: recordId,
              size_bytes: 100,
              sha256: sha(Buffer.from(String(i))),
            }).expect(201)
          ).body as Upload
        ).attachment_id,
      );
    }
    const tooMany = await create(u, {
      record_id: recordId,
      size_bytes: 100,
      sha256: sha(Buffer.from('x')),
    }).expect(400);
    expect(tooMany.body).toMatchObject({ code: 'limit_reached' });
    expect(await used(u)).toBe(before + 300);

    // The record's deletion takes its attachments and their reservations.
    await api().delete(`/api/v1/storage/records/${recordId}`).set(u.auth).expect(200);
    expect(await used(u)).toBe(0);
    for (const id of ids) await api().get(`/api/v1/storage/attachments/${id}`).set(u.auth).expect(404);
  }, 60_000);

  it('an upload never completed (the client crashed after sending every byte) is swept: no usage, no bytes', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const recordId = await newRecord(u);
    const before = await used(u);
    const content = new Content(12 * MIB);
    const plan = (
      await create(u, { record_id: recordId, size_bytes: content.size, sha256: content.sha256() }).expect(201)
    ).body as Upload;
    await putParts(content, plan.parts!);
    expect(await used(u)).toBe(before + content.size);
    expect((await stored(u, plan.attachment_id)).unfinished).toBe(1);

    // Before its deadline the sweep leaves it alone; after it, takes it with its reservation.
    const sweeper = t.app.get(AttachmentsService);
    await sweeper.sweepExpired(new Date());
    expect(await used(u)).toBe(before + content.size);
    const swept = await sweeper.sweepExpired(new Date(plan.expires_at + 1));
    expect(swept).toBeGreaterThanOrEqual(1);
    expect(await used(u)).toBe(before);
    expect(await stored(u, plan.attachment_id)).toEqual({ object: null, unfinished: 0 });
    await complete(u, plan.attachment_id).expect(404);
  });

  it('account export carries completed attachments as stored; erasure removes them and aborts uploads in progress', async () => {
    const u = await newUser(t, { tier: 'pro' });
    const recordId = await newRecord(u);
    const bytes = randomBytes(2000);
    const done = (
      await create(u, { record_id: recordId, size_bytes: bytes.length, sha256: sha(bytes) }).expect(201)
    ).body as Upload;
    expect(await put(done.upload!.url, done.upload!.headers, [bytes], bytes.length)).toMatchObject({
      status: 200,
    });
    await complete(u, done.attachment_id).expect(200);
    const content = new Content(12 * MIB);
    const pending = (
      await create(u, { record_id: recordId, size_bytes: content.size, sha256: content.sha256() }).expect(201)
    ).body as Upload;
    await putParts(content, pending.parts!.slice(0, 1));

    const participant = t.app.get(StorageAccountData);
    const files = new Map<string, Buffer>();
    const archive = {
      includeBackups: false,
      addAccountSection: () => undefined,
      addJson: (path: string, value: unknown) =>
        Promise.resolve(void files.set(path, Buffer.from(JSON.stringify(value)))),
      addFile: async (path: string, body: Readable | Buffer | string) => {
        const chunks: Buffer[] = [];
        for await (const c of typeof body === 'string' || Buffer.isBuffer(body) ? [Buffer.from(body)] : body)
          chunks.push(Buffer.from(c as Buffer));
        files.set(path, Buffer.concat(chunks));
      },
    };
    await participant.export({ userId: u.id, email: u.email }, archive);
    expect(files.get(`records/attachments/${done.attachment_id}.bin`)?.equals(bytes)).toBe(true);
    expect(JSON.parse(files.get(`records/attachments/${done.attachment_id}.json`)!.toString())).toMatchObject(
      {
        record_id: recordId,
        sha256: sha(bytes),
      },
    );
    expect([...files.keys()].some((path) => path.includes(pending.attachment_id))).toBe(false);

    await participant.erase({
      userId: u.id,
      email: u.email,
      pseudonym: '00000000-0000-4000-8000-000000000000',
    });
    expect(await stored(u, done.attachment_id)).toEqual({ object: null, unfinished: 0 });
    expect(await stored(u, pending.attachment_id)).toEqual({ object: null, unfinished: 0 });
    await api().get(`/api/v1/storage/attachments/${done.attachment_id}`).set(u.auth).expect(404);
  });

  it('an upload URL used after the upload’s deadline is refused, and an altered one too', async () => {
    const short = await startTestApp({ env: { ...env(), ATTACHMENT_UPLOAD_TTL_MS: '1000' } });
    try {
      const u = await newUser(short, { tier: 'pro' });
      const recordId = await newRecord(u, short);
      const bytes = randomBytes(1000);
      const plan = (
        await create(u, { record_id: recordId, size_bytes: bytes.length, sha256: sha(bytes) }, short).expect(
          201,
        )
      ).body as Upload;
      if (driver === 'files') {
        const altered = plan.upload!.url.replace(/signature=[^&]+/, 'signature=AAAA');
        const answer = (await put(altered, plan.upload!.headers, [bytes], bytes.length)) as Answer;
        expect(answer.status).toBe(403);
        expect(JSON.parse(answer.body)).toMatchObject({ code: 'link_invalid' });
      }
      // S3 checks expiry to the second: wait until a second past the deadline.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, plan.expires_at + 1100 - Date.now())));
      const late = (await put(plan.upload!.url, plan.upload!.headers, [bytes], bytes.length)) as Answer;
      expect(late.status).toBe(403);
      if (driver === 'files') expect(JSON.parse(late.body)).toMatchObject({ code: 'link_expired' });
      else expect(late.body).toContain('expired');
      expect((await complete(u, plan.attachment_id, undefined, short).expect(403)).body).toMatchObject({
        code: 'link_expired',
      });
      expect(await used(u, short)).toBe(64 + bytes.length); // the record's 64 bytes and the reservation
      await short.app.get(AttachmentsService).sweepExpired();
      expect(await used(u, short)).toBe(64);
    } finally {
      await short.close();
    }
  });
});
