import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../../config/app-config.js';
import type { Tier } from '../tiers/tiers.js';

/** Latency buckets (seconds) for requests, queries and calls to backing services. */
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Model calls take seconds. */
const LLM_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];

/** Redaction kinds the sanitizer counts, by name. */
export type RedactionCounts = Readonly<Record<string, number>>;

/**
 * Every Prometheus metric of the app, on a registry of its own (one per app,
 * so several apps in one process do not mix). Every label has a bounded set of
 * values: route templates, methods, status classes, tiers, model names from
 * the configuration, kinds; never a raw path, an id, an email or any content.
 */
@Injectable()
export class AppMetrics {
  readonly registry = new Registry();
  readonly enabled: boolean;
  private inFlight = 0;
  private readonly sources: Array<() => void> = [];

  readonly httpRequests = this.counter('adiuva_http_requests_total', 'HTTP requests answered', [
    'method',
    'route',
    'status_class',
  ]);
  readonly httpDuration = this.histogram(
    'adiuva_http_request_duration_seconds',
    'Time from the request to the end of its response',
    ['method', 'route', 'status_class'],
    FAST_BUCKETS,
  );
  readonly rateLimited = this.counter('adiuva_rate_limited_requests_total', 'Requests answered 429', [
    'tier',
  ]);
  readonly socketsOpen = this.gauge('adiuva_socket_connections_open', 'Open real-time connections', [
    'transport',
    'namespace',
  ]);
  readonly socketEvents = this.counter('adiuva_socket_events_total', 'Socket.IO events received and sent', [
    'namespace',
    'direction',
  ]);
  readonly chatStreams = this.gauge(
    'adiuva_chat_streams_running',
    'Streamed model calls in progress (the live part of chat streams)',
    [],
  );
  readonly dbQueryDuration = this.histogram(
    'adiuva_db_query_duration_seconds',
    'Database statements, by outcome',
    ['outcome'],
    FAST_BUCKETS,
  );
  readonly redisDuration = this.histogram(
    'adiuva_redis_command_duration_seconds',
    'Redis commands',
    ['command'],
    FAST_BUCKETS,
  );
  readonly redisErrors = this.counter('adiuva_redis_command_errors_total', 'Redis commands that failed', [
    'command',
  ]);
  readonly s3Duration = this.histogram(
    'adiuva_s3_request_duration_seconds',
    'S3 requests',
    ['command'],
    FAST_BUCKETS,
  );
  readonly s3Errors = this.counter('adiuva_s3_request_errors_total', 'S3 requests that failed', ['command']);
  readonly llmCalls = this.counter('adiuva_llm_calls_total', 'Model calls, by outcome', [
    'provider',
    'model',
    'kind',
    'outcome',
  ]);
  readonly llmDuration = this.histogram(
    'adiuva_llm_call_duration_seconds',
    'Model calls, whole (a stream until its last chunk)',
    ['provider', 'model', 'kind'],
    LLM_BUCKETS,
  );
  readonly llmFirstToken = this.histogram(
    'adiuva_llm_time_to_first_token_seconds',
    'Streamed model calls: time to the first text token',
    ['provider', 'model'],
    LLM_BUCKETS,
  );
  readonly llmTokens = this.counter('adiuva_llm_tokens_total', 'Tokens the provider reported', [
    'provider',
    'model',
    'direction',
  ]);
  readonly llmCost = this.counter(
    'adiuva_llm_cost_micro_usd_total',
    'Model spend recorded for accounts, in micro-USD',
    ['provider', 'model', 'kind'],
  );
  readonly budgetRefusals = this.counter(
    'adiuva_budget_refusals_total',
    'Model calls and streams refused 402 spend_limit_reached',
    ['tier'],
  );
  readonly redactions = this.counter(
    'adiuva_sanitizer_redactions_total',
    'Model output redacted by the sanitizer, by kind',
    ['kind'],
  );
  readonly blobWritten = this.counter('adiuva_blob_bytes_written_total', 'Bytes written to the blob store', [
    'driver',
    'kind',
  ]);
  readonly blobRead = this.counter('adiuva_blob_bytes_read_total', 'Bytes read from the blob store', [
    'driver',
    'kind',
  ]);
  readonly blobPutDuration = this.histogram(
    'adiuva_blob_put_duration_seconds',
    'Blob writes, whole',
    ['driver', 'kind'],
    [...FAST_BUCKETS, 30, 60, 300],
  );
  readonly backupThroughput = this.histogram(
    'adiuva_backup_upload_bytes_per_second',
    'Each backup upload: its bytes over its time',
    [],
    [1e5, 1e6, 5e6, 1e7, 2.5e7, 5e7, 1e8, 2.5e8, 5e8, 1e9],
  );
  readonly sweepRemoved = this.counter('adiuva_blob_sweep_removed_total', 'What blob sweeps removed', [
    'kind',
  ]);
  readonly sweepRemovedBytes = this.counter(
    'adiuva_blob_sweep_removed_bytes_total',
    'Bytes blob sweeps removed',
    ['kind'],
  );
  readonly sweepRuns = this.counter('adiuva_blob_sweep_runs_total', 'Blob sweeps, by outcome', ['outcome']);

  constructor(config: AppConfig) {
    this.enabled = config.metrics.enabled;
    this.gauge('adiuva_http_requests_in_flight', 'HTTP requests being served', [], () => this.inFlight);
    if (this.enabled) collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition, in Prometheus' text format, after every registered source is read. */
  async exposition(): Promise<string> {
    for (const read of this.sources) read();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  requestStarted(): void {
    this.inFlight++;
  }

  requestEnded(): void {
    this.inFlight--;
  }

  /** A 429, counted by the tier of the account (`anonymous` without one). */
  countRateLimited(tier: Tier | undefined): void {
    this.rateLimited.inc({ tier: tier ?? 'anonymous' });
  }

  countBudgetRefusal(tier: Tier): void {
    this.budgetRefusals.inc({ tier });
  }

  /**
   * Mirrors counts kept elsewhere (since start, by kind) into a counter at
   * each scrape: the owner keeps counting, nothing on its hot path changes.
   */
  mirrorCounts(counter: Counter<'kind'>, read: () => RedactionCounts): void {
    const seen = new Map<string, number>();
    this.sources.push(() => {
      for (const [kind, total] of Object.entries(read())) {
        const delta = total - (seen.get(kind) ?? 0);
        if (delta > 0) counter.inc({ kind }, delta);
        seen.set(kind, total);
      }
    });
  }

  /** A gauge read at each scrape (pool sizes, open connections kept elsewhere). */
  readAtScrape(name: string, help: string, read: () => number): void {
    this.gauge(name, help, [], read);
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    read?: () => number,
  ): Gauge<L> {
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(read
        ? {
            collect: function (this: Gauge<L>) {
              this.set(read());
            },
          }
        : {}),
    });
  }

  private histogram<L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    buckets: number[],
  ): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }
}
