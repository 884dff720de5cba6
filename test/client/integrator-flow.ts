// An integrator's whole flow through the client generated from openapi.json
// (openapi-typescript types + openapi-fetch), written as an integrator would:
// no casts, no hand-written types. test/openapi-client.e2e-spec.ts generates
// ./generated/api.ts, type-checks this file with `tsc --strict` and runs it
// against the real server.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { paths } from './generated/api.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Fails the flow with what the server said. */
function must<T>(step: string, result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new Error(`${step}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

export interface FlowReport {
  email: string;
  tier: string;
  recordVersions: number[];
  listedTotal: string | null;
  changes: number;
  vectorScore: number;
  backups: number;
  backupBytesMatch: boolean;
  rangeStatus: number;
  rangeBytesMatch: boolean;
}

/** `baseUrl` is the server's origin plus the document's server URL, e.g. http://host:3000/api/v1. */
export async function runIntegratorFlow(baseUrl: string): Promise<FlowReport> {
  // 1. An account, its profile and an API key, with the access token.
  const anonymous = createClient<paths>({ baseUrl });
  const email = `integrator-${randomUUID().slice(0, 8)}@example.com`;
  const tokens = must(
    'register',
    await anonymous.POST('/auth/register', { body: { email, password: 'correct horse battery staple' } }),
  );
  const signedIn = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${tokens.access_token}` },
  });
  const me = must('me', await signedIn.GET('/auth/me'));
  const apiKey = must(
    'create API key',
    await signedIn.POST('/auth/api-keys', { body: { name: 'sync job' } }),
  );

  // 2. From here on the API key is the only credential.
  const api = createClient<paths>({ baseUrl, headers: { 'X-API-Key': apiKey.key } });

  const first = randomBytes(2048);
  const created = must(
    'create record',
    await api.POST('/storage/records', {
      body: { table: 'notes', blob: first.toString('base64'), checksum: sha256(first) },
    }),
  );
  const listed = await api.GET('/storage/records', { params: { query: { table: 'notes', limit: 10 } } });
  const records = must('list records', listed);
  if (!records.some((r) => r.id === created.id)) throw new Error('list records: the new record is missing');

  const download = await api.GET('/storage/records/{id}', {
    params: { path: { id: created.id } },
    parseAs: 'arrayBuffer',
  });
  const downloaded = new Uint8Array(must('download record', download));
  const etag = download.response.headers.get('ETag');
  if (sha256(downloaded) !== download.response.headers.get('X-Checksum') || !etag) {
    throw new Error('download record: checksum or ETag missing or wrong');
  }

  const second = randomBytes(1024);
  const updated = must(
    'update record',
    await api.PUT('/storage/records/{id}', {
      params: { path: { id: created.id }, header: { 'If-Match': etag } },
      body: { blob: second.toString('base64'), checksum: sha256(second) },
    }),
  );
  const stale = await api.PUT('/storage/records/{id}', {
    params: { path: { id: created.id }, header: { 'If-Match': etag } },
    body: { blob: second.toString('base64'), checksum: sha256(second) },
  });
  // The 409 body says what is stored now, to merge and retry with it as the base.
  if (stale.response.status !== 409 || !stale.error || !('current_version' in stale.error)) {
    throw new Error(`update record with a stale If-Match: HTTP ${stale.response.status}`);
  }
  if (stale.error.current_version !== updated.version) throw new Error('409 with a wrong current_version');

  const changes = must(
    'changes feed',
    await api.GET('/storage/changes', { params: { query: { limit: 100 } } }),
  );

  // 3. Vectors (blob-hash mode: the encrypted item is found by an identical blob).
  const item = randomBytes(64);
  const upserted = must(
    'upsert vectors',
    await api.POST('/storage/vectors/upsert', {
      body: { vectors: [{ id: 'doc-1', blob: item.toString('base64'), checksum: sha256(item) }] },
    }),
  );
  if (upserted.upserted !== 1) throw new Error('upsert vectors: nothing upserted');
  const found = must(
    'search vectors',
    await api.POST('/storage/vectors/search', { body: { query_blob: item.toString('base64'), top_k: 5 } }),
  );
  const hit = found.results.find((r) => r.id === 'doc-1');
  if (!hit) throw new Error('search vectors: the item was not found');

  // 4. Backups: raw bytes up, history, latest, and a range of it.
  const backup = randomBytes(100_000);
  must(
    'upload backup',
    await api.PUT('/backup', {
      params: {
        header: {
          'X-Backup-Version': '2',
          'X-Backup-Timestamp': String(Date.now()),
          'X-Backup-Checksum': sha256(backup),
        },
      },
      headers: { 'Content-Type': 'application/octet-stream' },
      body: new Blob([backup]),
      bodySerializer: (body) => body,
    }),
  );
  const history = must('backup history', await api.GET('/backup/history'));
  const latest = new Uint8Array(must('latest backup', await api.GET('/backup', { parseAs: 'arrayBuffer' })));
  const range = await api.GET('/backup', {
    params: { header: { Range: 'bytes=1000-1999' } },
    parseAs: 'arrayBuffer',
  });
  const part = new Uint8Array(must('backup range', range));

  return {
    email: me.email,
    tier: me.tier,
    recordVersions: [created.version, updated.version],
    listedTotal: listed.response.headers.get('X-Total-Count'),
    changes: changes.changes.length,
    vectorScore: hit.score,
    backups: history.length,
    backupBytesMatch: Buffer.from(latest).equals(backup),
    rangeStatus: range.response.status,
    rangeBytesMatch: Buffer.from(part).equals(backup.subarray(1000, 2000)),
  };
}
