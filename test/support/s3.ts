import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** The environment an app needs to use it (SPEC §3 names). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const script = join(dirname(fileURLToPath(import.meta.url)), 's3rver-process.mjs');

/**
 * s3rver (a real S3-protocol server) on a loopback port with one bucket, in a child process: what
 * it buffers does not count in the memory a test measures, and its work does not run on the
 * event loop of the app under test.
 */
export async function startLocalS3(bucket = 'adiuva-test'): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 'adiuva-s3-'));
  const child = fork(script, {
    env: { ...process.env, S3RVER_DIR: directory, S3RVER_BUCKET: bucket },
    // Not Jest's flags (--experimental-vm-modules, --expose-gc): a plain Node process.
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('error', reject);
    void exited.then(() => reject(new Error('s3rver exited before it was ready')));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    bucket,
    env: {
      S3_BUCKET: bucket,
      S3_ENDPOINT_URL: endpoint,
      S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    stop: () =>
      (stopped ??= (async () => {
        if (child.connected) child.disconnect();
        // It closes its server and exits; one that hangs on an open connection is killed.
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(kill);
        rmSync(directory, { recursive: true, force: true });
      })()),
  };
}
