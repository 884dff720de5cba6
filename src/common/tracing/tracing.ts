import type { Span } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ServerResponse } from 'node:http';
import { register } from 'node:module';
import type { AppConfig } from '../../config/app-config.js';
import { scrubAttributes } from './scrub.js';

/** The span attribute holding the request id (the X-Request-Id every response carries). */
export const REQUEST_ID_ATTRIBUTE = 'adiuva.request_id';

/** Modules the ESM loader hook may wrap (the rest load untouched). */
const HOOKED = ['http', 'https', 'express', 'pg', 'ioredis'];

/** Scrapes are not traced. */
const UNTRACED = /^\/(api\/v1\/)?metrics(\?|$)/;

export interface Tracing {
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
  /** Shuts tracing down after the app closes (a graceful shutdown's last spans are exported). */
  flushOnClose(app: { close(): Promise<void> }): void;
}

/**
 * Starts OpenTelemetry tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set, and
 * must run before the app's modules are imported (main.ts imports them after
 * it): it registers the ESM loader hook and the HTTP, Express, pg, ioredis and
 * undici (fetch) instrumentations. Spans go over OTLP/HTTP (JSON) in batches.
 * Unset: nothing of OpenTelemetry is even loaded.
 */
export async function startTracing(config: AppConfig['tracing']): Promise<Tracing | undefined> {
  if (!config.endpoint) return undefined;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: HOOKED } });
  const { NodeSDK, tracing, resources } = await import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const exporter = new OTLPTraceExporter({ url: `${config.endpoint}/v1/traces` });
  const batches = new tracing.BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 });
  const sdk = new NodeSDK({
    resource: resources.resourceFromAttributes({ 'service.name': config.serviceName }),
    autoDetectResources: false,
    spanProcessors: [scrubbing(batches)],
    sampler: new tracing.ParentBasedSampler({
      root: new tracing.TraceIdRatioBasedSampler(config.sampleRatio),
    }),
    instrumentations: await instrumentations(),
  });
  sdk.start();
  const shutdown = () => sdk.shutdown().catch(() => undefined);
  return {
    shutdown,
    flushOnClose: (app) => {
      const close = app.close.bind(app);
      app.close = async () => {
        await close();
        await shutdown();
      };
    },
  };
}

async function instrumentations() {
  const [http, express, pg, ioredis, undici] = await Promise.all([
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-express'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  return [
    new http.HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED.test(req.url ?? ''),
      applyCustomAttributesOnSpan: (span: Span, _req, res) => {
        const id = (res as ServerResponse).getHeader?.('x-request-id');
        if (typeof id === 'string') span.setAttribute(REQUEST_ID_ATTRIBUTE, id);
      },
      // Never a header or a body: only what the instrumentation records by default.
      headersToSpanAttributes: { server: { requestHeaders: [], responseHeaders: [] } },
    }),
    new express.ExpressInstrumentation(),
    // No values of statements (they are parameters: emails, ids, blobs).
    new pg.PgInstrumentation({ enhancedDatabaseReporting: false }),
    // The command name only: Redis keys hold account ids.
    new ioredis.IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
    new undici.UndiciInstrumentation(),
  ];
}

/** Passes each finished span to `next` after scrubbing its attributes. */
function scrubbing(next: SpanProcessor): SpanProcessor {
  return {
    onStart: (span, context) => next.onStart(span, context),
    onEnd: (span) => {
      scrubAttributes(span.kind, span.attributes);
      next.onEnd(span);
    },
    forceFlush: () => next.forceFlush(),
    shutdown: () => next.shutdown(),
  };
}
