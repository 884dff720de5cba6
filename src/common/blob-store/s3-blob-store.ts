import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  NoSuchKey,
  NoSuchUpload,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import type { AppConfig } from '../../config/app-config.js';
import {
  assertValidKey,
  BlobStore,
  type BlobHead,
  type ByteRange,
  type ListedBlob,
  partSizeFor,
  type PresignedRequest,
  type PutOptions,
  type StoredBlob,
  type UnfinishedWrite,
  type UploadedPart,
  UploadRejected,
} from './blob-store.js';
import { sha256InWorker } from '../hashing/sha256-in-worker.js';

/** Objects up to this size go in one PutObject; larger or unknown-length streams use a multipart Upload. */
const SINGLE_PUT_MAX = 16 * 1024 * 1024;

/**
 * Blobs in S3 or an S3-protocol server (MinIO, s3rver: `S3_ENDPOINT_URL`,
 * path-style). Server-side encryption (SSE-S3) on every object, on top of
 * the client's own encryption; the client's checksum in the object metadata.
 */
export class S3BlobStore extends BlobStore {
  readonly driver = 's3' as const;
  readonly client: S3Client;
  /**
   * Signs the requests clients send themselves. Without WHEN_REQUIRED the SDK adds a CRC32 of an
   * empty body to each presigned part URL (it cannot know the bytes), which S3 then holds the
   * real part against; the SHA-256 a presigned PUT carries is the one we set.
   */
  private readonly presigner: S3Client;

  constructor(
    readonly bucket: string,
    s3: AppConfig['s3'],
  ) {
    super();
    const options = {
      region: s3.region,
      ...(s3.endpointUrl ? { endpoint: s3.endpointUrl, forcePathStyle: true } : {}),
      ...(s3.accessKeyId && s3.secretAccessKey
        ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }
        : {}),
      maxAttempts: 3,
    };
    this.client = new S3Client(options);
    this.presigner = new S3Client({ ...options, requestChecksumCalculation: 'WHEN_REQUIRED' });
  }

  async beginDirectUpload(key: string, options: { multipart: boolean }): Promise<string | null> {
    assertValidKey(key);
    if (!options.multipart) return null;
    const created = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        ServerSideEncryption: 'AES256',
        ContentType: 'application/octet-stream',
      }),
    );
    if (!created.UploadId) throw new Error('The store opened a multipart upload without an upload id');
    return created.UploadId;
  }

  /**
   * Content-Length and x-amz-checksum-sha256 are signed headers (kept out of the query string),
   * so S3 refuses a body of another size or other bytes before storing anything.
   */
  override async presignedPut(
    key: string,
    object: { size: number; sha256: string; expiresInSeconds: number },
  ): Promise<PresignedRequest> {
    assertValidKey(key);
    const checksum = Buffer.from(object.sha256, 'hex').toString('base64');
    const url = await getSignedUrl(
      this.presigner,
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ContentLength: object.size,
        ChecksumSHA256: checksum,
        ServerSideEncryption: 'AES256',
        ContentType: 'application/octet-stream',
      }),
      {
        expiresIn: object.expiresInSeconds,
        unhoistableHeaders: new Set([
          'x-amz-checksum-sha256',
          'x-amz-server-side-encryption',
          'content-type',
        ]),
      },
    );
    return {
      url,
      headers: {
        'content-type': 'application/octet-stream',
        'x-amz-checksum-sha256': checksum,
        'x-amz-server-side-encryption': 'AES256',
      },
    };
  }

  override async presignedPartPut(
    key: string,
    part: { uploadId: string; partNumber: number; size: number; expiresInSeconds: number },
  ): Promise<PresignedRequest> {
    assertValidKey(key);
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: key,
      UploadId: part.uploadId,
      PartNumber: part.partNumber,
      ContentLength: part.size,
    });
    return {
      url: await getSignedUrl(this.presigner, command, { expiresIn: part.expiresInSeconds }),
      headers: {},
    };
  }

  async finishDirectUpload(key: string, uploadId: string | null, parts: UploadedPart[]): Promise<void> {
    assertValidKey(key);
    if (uploadId === null) return; // a single presigned PUT stored the object itself
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    } catch (err) {
      const status = err instanceof S3ServiceException ? (err.$metadata.httpStatusCode ?? 500) : 500;
      if (status >= 400 && status < 500)
        throw new UploadRejected(`The store refused the parts (${(err as Error).name})`);
      throw err;
    }
  }

  async abortDirectUpload(key: string, uploadId: string | null): Promise<void> {
    if (uploadId !== null) {
      await this.removeUnfinished({
        kind: 'multipart_upload',
        ref: uploadId,
        key,
        size: 0,
        lastActivity: new Date(),
      });
    }
    await this.delete(key);
  }

  /** With the SHA-256 S3 verified at upload, when it has one (ChecksumMode); s3rver keeps none. */
  async head(key: string): Promise<BlobHead | null> {
    assertValidKey(key);
    try {
      const res = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
      const sha256 =
        res.ChecksumSHA256 && !res.ChecksumSHA256.includes('-')
          ? Buffer.from(res.ChecksumSHA256, 'base64').toString('hex')
          : undefined;
      return { size: Number(res.ContentLength ?? 0), ...(sha256 ? { sha256 } : {}) };
    } catch (err) {
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return null;
      throw err;
    }
  }

  /** Read back through a presigned GET on a worker thread: the bytes never cross our event loop. */
  async sha256Of(key: string): Promise<string> {
    return sha256InWorker({ url: await this.presignedGetUrl(key, 3600) });
  }

  /** A SigV4 presigned GET: the bucket checks the signature and the expiry, not us. */
  override presignedGetUrl(key: string, expiresInSeconds: number): Promise<string> {
    assertValidKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: expiresInSeconds,
    });
  }

  async put(
    key: string,
    body: Readable | Buffer,
    options: PutOptions = {},
  ): Promise<{ size: number; parts: number }> {
    assertValidKey(key);
    const common = {
      Bucket: this.bucket,
      Key: key,
      ServerSideEncryption: 'AES256' as const,
      ContentType: 'application/octet-stream',
      Metadata: options.checksum ? { sha256: options.checksum } : undefined,
    };
    if (Buffer.isBuffer(body) && body.length <= SINGLE_PUT_MAX) {
      await this.client.send(new PutObjectCommand({ ...common, Body: body, ContentLength: body.length }));
      return { size: body.length, parts: 1 };
    }
    let size = 0;
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    source.on('data', (chunk: Buffer) => (size += chunk.length));
    // A failed multipart upload is aborted by Upload (leavePartsOnError: false): no object, no parts.
    // Memory does not grow with the object: queueSize parts in flight, the one being assembled and
    // lib-storage's concatenation copies (62–71 MiB live at 8 MiB parts in test/blob-store).
    const partSize = partSizeFor(options.contentLength);
    await new Upload({
      client: this.client,
      params: { ...common, Body: source },
      queueSize: 4,
      partSize,
    }).done();
    return { size, parts: Math.max(1, Math.ceil(size / partSize)) };
  }

  async get(key: string, range?: ByteRange): Promise<StoredBlob | null> {
    assertValidKey(key);
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      const total = /\/(\d+)$/.exec(res.ContentRange ?? '')?.[1];
      return {
        stream: res.Body as Readable,
        size: Number(total ?? res.ContentLength ?? 0),
        checksum: res.Metadata?.sha256,
      };
    } catch (err) {
      if (
        err instanceof NoSuchKey ||
        (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)
      ) {
        return null;
      }
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async *list(prefix = '', options: { pageSize?: number } = {}): AsyncIterable<ListedBlob> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix || undefined,
          ContinuationToken: token,
          MaxKeys: options.pageSize ?? 1000,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key,
          size: object.Size ?? 0,
          lastModified: object.LastModified ?? new Date(0),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async *listUnfinished(): AsyncIterable<UnfinishedWrite> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
          MaxUploads: 1000,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId) continue;
        const parts = await this.uploadedParts(upload.Key, upload.UploadId);
        if (!parts) continue; // completed or aborted since the page was listed
        const started = upload.Initiated?.getTime() ?? 0;
        yield {
          kind: 'multipart_upload',
          ref: upload.UploadId,
          key: upload.Key,
          size: parts.size,
          // A long upload is alive while parts keep arriving: its age is that of its newest part.
          lastActivity: new Date(Math.max(started, parts.newest)),
        };
      }
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  async removeUnfinished(write: UnfinishedWrite): Promise<void> {
    if (write.kind !== 'multipart_upload' || !write.key) {
      throw new Error(`Not a leftover of this store: ${write.kind}`);
    }
    assertValidKey(write.key);
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: write.key, UploadId: write.ref }),
      );
    } catch (err) {
      if (!isNoSuchUpload(err)) throw err;
    }
  }

  /** Total bytes and newest part time of an upload; null when there is no such upload any more. */
  private async uploadedParts(
    key: string,
    uploadId: string,
  ): Promise<{ size: number; newest: number } | null> {
    let size = 0;
    let newest = 0;
    let marker: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const part of page.Parts ?? []) {
          size += part.Size ?? 0;
          newest = Math.max(newest, part.LastModified?.getTime() ?? 0);
        }
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (err) {
      if (isNoSuchUpload(err)) return null;
      throw err;
    }
    return { size, newest };
  }
}

function isNoSuchUpload(err: unknown): boolean {
  return (
    err instanceof NoSuchUpload ||
    (err instanceof S3ServiceException &&
      (err.name === 'NoSuchUpload' || err.$metadata.httpStatusCode === 404))
  );
}
