import 'reflect-metadata';
import { exitOnSignals } from './common/lifecycle/graceful-shutdown.js';
import { createLogger } from './common/logging/logger.js';
import { startTracing } from './common/tracing/tracing.js';
import { ConfigError, loadConfig, loadDotEnv, type AppConfig } from './config/app-config.js';

async function bootstrap(): Promise<void> {
  loadDotEnv();
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config);
  const started = Date.now();
  try {
    // Tracing hooks module loading: the app is imported only once it runs.
    const tracing = await startTracing(config.tracing);
    const { createApp } = await import('./app.factory.js');
    const app = await createApp(config, { logger });
    if (tracing) tracing.flushOnClose(app);
    const server = app.getHttpServer();
    // Longer than load balancers' idle timeouts (AWS ALB: 60 s) so they, not we, close idle sockets.
    server.keepAliveTimeout = config.keepAliveTimeoutMs;
    server.headersTimeout = config.keepAliveTimeoutMs + 5_000;
    await app.listen(config.port, config.host);
    exitOnSignals(app, config, logger);
    logger.info(
      { port: config.port, host: config.host, env: config.env, startup_ms: Date.now() - started },
      `Adiuva Cloud API listening on http://${config.host}:${config.port} (docs ${config.swaggerEnabled ? 'at /docs' : 'disabled'})`,
    );
  } catch (err) {
    logger.fatal({ err }, 'Failed to start');
    logger.flush();
    process.exit(1);
  }
}

void bootstrap();
