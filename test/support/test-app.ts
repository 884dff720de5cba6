import type { Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory.js';
import { createLogger } from '../../src/common/logging/logger.js';
import { type AppConfig, loadConfig } from '../../src/config/app-config.js';
import { EMBEDDED_POOL_SIZE } from '../../src/database/database.options.js';
import { LogCapture } from './log-capture.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  /** http://127.0.0.1:<port>, the app listening for real. */
  url: string;
  logs: LogCapture;
  db: TestDatabase;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Environment variables on top of the test defaults (values as an operator would write them). */
  env?: Record<string, string>;
  extraModules?: Type[];
  /** Use this database instead of a fresh one (the caller owns it). */
  db?: TestDatabase;
  /** A fresh embedded (PGlite + pgvector) database even where DATABASE_URL names a server. */
  embeddedDb?: boolean;
}

/** Boots the real AppModule on its own database and a loopback port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownDb = !options.db;
  const db = options.db ?? (await createTestDatabase({ embedded: options.embeddedDb }));
  const dataDir = mkdtempSync(join(tmpdir(), 'adiuva-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    // The pool the app's embedded mode uses for PGlite's one backend.
    ...(db.kind === 'embedded' ? { DATABASE_POOL_MAX: String(EMBEDDED_POOL_SIZE) } : {}),
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const logs = new LogCapture();
  const logger = createLogger(config, logs);
  let app: NestExpressApplication | undefined;
  try {
    app = await createApp(config, { logger, extraModules: options.extraModules });
    await app.listen(0, '127.0.0.1');
  } catch (err) {
    await app?.close().catch(() => undefined);
    if (ownDb) await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const started = app;
  return {
    app: started,
    config,
    url: await started.getUrl().then((u) => u.replace('[::1]', '127.0.0.1')),
    logs,
    db,
    close: async () => {
      await started.close();
      if (ownDb) await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
