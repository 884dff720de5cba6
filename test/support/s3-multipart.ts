import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** What the middleware below uses of s3rver's (Koa's) request context. */
interface Context {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}
type Next = () => Promise<unknown>;
interface S3rverStore {
  listObjects(
    bucket: string,
    options: { prefix: string; maxKeys: number; startAfter: string },
  ): Promise<{ objects: Array<{ key: string; size: number; lastModifiedDate: Date }>; isTruncated: boolean }>;
}

/**
 * s3rver in this process, taught the three multipart calls it lacks (ListMultipartUploads,
 * ListParts, AbortMultipartUpload) over its own upload directory, so incomplete uploads can be
 * listed and aborted through the S3 protocol as on S3 or MinIO.
 */
export async function startMultipartS3(bucket = 'adiuva-sweep') {
  const directory = mkdtempSync(join(tmpdir(), 'adiuva-s3-sweep-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const uploads = join(directory, bucket, '._S3rver_uploads');
  const store = (server as unknown as { store: S3rverStore }).store;
  const xml = (ctx: Context, status: number, body: string) => {
    ctx.status = status;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  };
  const noSuchUpload = (ctx: Context) =>
    xml(ctx, 404, '<Error><Code>NoSuchUpload</Code><Message>No such upload</Message></Error>');
  const parts = async (id: string) => {
    const names = (await readdir(join(uploads, id))).filter((n) => /^\d+$/.test(n));
    return Promise.all(
      names.map(async (n) => ({ number: Number(n), stat: await stat(join(uploads, id, n)) })),
    );
  };
  (server as unknown as { middleware: Array<(ctx: Context, next: Next) => unknown> }).middleware.unshift(
    async (ctx: Context, next: Next) => {
      const [, name, ...keyParts] = ctx.path.split('/');
      const key = decodeURIComponent(keyParts.join('/'));
      const uploadId = typeof ctx.query.uploadId === 'string' ? ctx.query.uploadId : undefined;
      if (name !== bucket) return next();
      // s3rver's own continuation tokens use DES, which this Node's OpenSSL no longer has.
      if (ctx.method === 'GET' && !key && ctx.query['list-type'] === '2') {
        const token = ctx.query['continuation-token'];
        const page = await store.listObjects(bucket, {
          prefix: (ctx.query.prefix as string | undefined) ?? '',
          maxKeys: Math.min(1000, Number(ctx.query['max-keys'] ?? 1000)),
          startAfter: typeof token === 'string' ? Buffer.from(token, 'base64url').toString() : '',
        });
        const last = page.objects.at(-1)?.key;
        return xml(
          ctx,
          200,
          `<ListBucketResult><Name>${bucket}</Name><KeyCount>${page.objects.length}</KeyCount>` +
            `<IsTruncated>${page.isTruncated}</IsTruncated>` +
            (page.isTruncated && last
              ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>`
              : '') +
            page.objects
              .map(
                (o) =>
                  `<Contents><Key>${o.key}</Key><LastModified>${o.lastModifiedDate.toISOString()}</LastModified>` +
                  `<Size>${o.size}</Size></Contents>`,
              )
              .join('') +
            '</ListBucketResult>',
        );
      }
      if (ctx.method === 'GET' && !key && 'uploads' in ctx.query) {
        const ids = existsSync(uploads) ? await readdir(uploads) : [];
        const entries = await Promise.all(
          ids.map(async (id) => ({
            id,
            key: await readFile(join(uploads, id, 'key'), 'utf8'),
            initiated: (await stat(join(uploads, id, 'key'))).mtime,
          })),
        );
        return xml(
          ctx,
          200,
          `<ListMultipartUploadsResult><Bucket>${bucket}</Bucket><MaxUploads>1000</MaxUploads>` +
            '<IsTruncated>false</IsTruncated>' +
            entries
              .map(
                (u) =>
                  `<Upload><Key>${u.key}</Key><UploadId>${u.id}</UploadId>` +
                  `<Initiated>${u.initiated.toISOString()}</Initiated></Upload>`,
              )
              .join('') +
            '</ListMultipartUploadsResult>',
        );
      }
      if (!key || !uploadId || !['GET', 'DELETE'].includes(ctx.method)) return next();
      if (!existsSync(join(uploads, uploadId))) return noSuchUpload(ctx);
      if (ctx.method === 'DELETE') {
        await rm(join(uploads, uploadId), { recursive: true, force: true });
        ctx.status = 204;
        return;
      }
      return xml(
        ctx,
        200,
        `<ListPartsResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${uploadId}</UploadId>` +
          '<IsTruncated>false</IsTruncated>' +
          (await parts(uploadId))
            .map(
              (p) =>
                `<Part><PartNumber>${p.number}</PartNumber><LastModified>${p.stat.mtime.toISOString()}` +
                `</LastModified><ETag>"x"</ETag><Size>${p.stat.size}</Size></Part>`,
            )
            .join('') +
          '</ListPartsResult>',
      );
    },
  );
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    bucket,
    uploads: () => (existsSync(uploads) ? readdirSync(uploads) : []),
    env: {
      S3_BUCKET: bucket,
      S3_ENDPOINT_URL: endpoint,
      S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
