import type { DataSource } from 'typeorm';
import type { BlobStore } from '../../src/common/blob-store/blob-store.js';

/** Tables of the schema with rows whose text (every column) contains `needle`, as `table: count`. */
export async function tablesMentioning(db: DataSource, needle: string): Promise<string[]> {
  const tables = await db.query<Array<{ name: string }>>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  const found: string[] = [];
  for (const { name } of tables) {
    const [{ n }] = await db.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM "${name}" t WHERE strpos(lower(t::text), lower($1)) > 0`,
      [needle],
    );
    if (n > 0) found.push(`${name}: ${n}`);
  }
  return found;
}

/** Every blob key under `prefix`. */
export async function blobKeysUnder(blobs: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of blobs.list(prefix)) keys.push(blob.key);
  return keys;
}
