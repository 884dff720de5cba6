import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppModule } from '../app.module.js';
import { loadConfig } from '../config/app-config.js';
import { API_PREFIX, buildOpenApiDocument } from '../openapi.document.js';
import { print, runCli } from './bootstrap.js';

/**
 * Writes the OpenAPI document to openapi.json (`npm run openapi:generate`), or
 * with --check fails when the committed file differs from what the code
 * builds (`npm run openapi:check`, CI). The app is built in preview mode: its
 * routes and metadata, no database, nothing listening. Of the configuration
 * the document states only VECTOR_DIMENSIONS (a vector's exact length): the
 * committed file states the default, a deployment serves its own at /docs-json.
 */
async function renderOpenApiDocument(): Promise<string> {
  const config = loadConfig({ JWT_SECRET: 'openapi-generator-only-'.padEnd(32, 'x'), LOG_LEVEL: 'silent' });
  const app = await NestFactory.create(AppModule.forRoot(config), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  app.setGlobalPrefix(API_PREFIX);
  try {
    return JSON.stringify(buildOpenApiDocument(app, config), null, 2) + '\n';
  } finally {
    await app.close();
  }
}

runCli(async (args) => {
  const file = resolve('openapi.json');
  const rendered = await renderOpenApiDocument();
  if (args.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      // missing: differs
    }
    if (committed !== rendered) {
      process.stderr.write(
        'openapi.json differs from the document the code builds: run `npm run openapi:generate` and commit it\n',
      );
      return 1;
    }
    print('openapi.json matches the code');
    return 0;
  }
  writeFileSync(file, rendered);
  print(`wrote ${file}`);
  return 0;
});
