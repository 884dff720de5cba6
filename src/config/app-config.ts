import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { envSchema, type Env, type LogLevel, type Tier } from './env.schema.js';
import { llmConfigProblems, type LlmModels, llmModels } from './llm-config.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Typed, validated configuration. Built once at start from the environment and
 * injected wherever a setting is needed (it is the injection token itself).
 */
export class AppConfig {
  readonly port: number;
  readonly host: string;
  readonly env: 'dev' | 'prod';
  readonly dataDir: string;
  readonly database: {
    url: string | undefined;
    poolMax: number;
    /** The embedded Postgres's shared_buffers, in MiB. */
    embeddedSharedBuffersMb: number;
    connectTimeoutMs: number;
  };
  readonly jwt: { secret: string; accessTokenMinutes: number; refreshTokenDays: number };
  readonly s3: {
    bucket: string | undefined;
    region: string;
    endpointUrl: string | undefined;
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
  };
  readonly redisUrl: string | undefined;
  readonly stripe: {
    secretKey: string | undefined;
    webhookSecret: string | undefined;
    /** The Connect endpoint's signing secret, when connected accounts' events come to the same route. */
    connectWebhookSecret: string | undefined;
    apiUrl: string | undefined;
    prices: { pro: string; power: string; team: string };
    /** Default return URLs of Checkout (a request may name others on an allowed origin). */
    successUrl: string;
    cancelUrl: string;
    /** Where Connect onboarding returns a plugin developer (finished, or the link expired). */
    connectReturnUrl: string;
    connectRefreshUrl: string;
  };
  readonly llm: {
    apiKey: string | undefined;
    baseUrl: string | undefined;
    model: string;
    routerModel: string;
    embeddingsModel: string;
    /** The same models parsed (provider:model), the fallbacks, the allowed list and every provider's endpoint. */
    models: LlmModels;
    /** One model call's time limit (a stream's whole duration). */
    timeoutMs: number;
    /** Further attempts after a 429, a 5xx or a dropped connection (never after another 4xx). */
    maxRetries: number;
    /** max_tokens of every chat call: the output side of a call's worst case. */
    maxOutputTokens: number;
    /** LLM_PRICES: USD per million tokens [input, output] by provider:model, over the built-in ones. */
    prices: Record<string, [number, number]>;
    /** Each tier's daily model budget in USD. */
    dailyBudgetUsd: Record<Tier, number>;
    /** USAGE_METERING: record and budget every model call (on unless turned off). */
    metering: boolean;
  };
  /** Resumable chat streams: keep each stream's events, and run on this long after every client left. */
  readonly chatResume: { enabled: boolean; graceMs: number };
  readonly vectorDimensions: number;
  /** Largest encrypted blob of one vector item (they live in the database, beside their vectors). */
  readonly vectorMaxBlobBytes: number;
  readonly corsOrigins: string[];
  /** ADMIN_EMAILS with ENV=dev; always empty in prod, where only an operator grants the role. */
  readonly adminEmails: string[];
  /** ADMIN_EMAILS was set with ENV=prod: ignored, which the app warns about at start. */
  readonly adminEmailsIgnored: boolean;
  readonly defaultTier: Tier;
  readonly trustProxy: boolean | number | string[];
  readonly logLevel: LogLevel;
  readonly swaggerEnabled: boolean;
  /** Per-tier request limits (off only for benchmarks; sign-in limits always apply). */
  readonly rateLimitEnabled: boolean;
  /** Brute-force limits of register/login/refresh/logout: per IP per minute, per account per 15 minutes. */
  readonly authRateLimit: { perIpPerMinute: number; perAccountPer15Minutes: number };
  /** Failed authentication per minute (always on): per client address, per API-key prefix. */
  readonly authFailureLimit: { perIpPerMinute: number; perApiKeyPrefixPerMinute: number };
  /** Socket events per minute (per socket, per account) counted before any database work; live sockets per account. */
  readonly socketLimits: { eventsPerSocket: number; eventsPerAccount: number; connectionsPerAccount: number };
  readonly jsonBodyLimitBytes: number;
  /** Largest record blob (raw bytes); its route's JSON limit is raised to fit the base64 of it. */
  readonly storageMaxRecordBytes: number;
  readonly attachments: {
    maxBytes: number;
    multipartBytes: number;
    partBytes: number;
    uploadTtlMs: number;
    maxPending: number;
  };
  /** Backups kept per user; older ones are deleted after a new one commits. */
  readonly backupKeep: number;
  /** Sweep of blobs no row references and of interrupted writes' leftovers (0 ms interval: never by itself). */
  readonly blobSweep: { intervalMs: number; graceMs: number };
  readonly accountErasure: { graceDays: number; jobsIntervalMs: number; retryMs: number };
  /** Origin of absolute URLs given to clients (never a request's Host); undefined only in dev: the listen address. */
  readonly publicUrl: string | undefined;
  /** Where new team invites are also POSTed (signed with `secret`), for the operator's mailer; unset: not sent. */
  readonly teamInviteWebhook: { url: string; secret: string } | undefined;
  readonly pluginChecksTimeoutMs: number;
  /** Plugin submissions per account per hour, failed ones included (429 past it). */
  readonly pluginSubmissionsPerHour: number;
  /** GET /metrics: on its own port, or on the public API behind a bearer token; off when neither. */
  readonly metrics: { port: number | undefined; token: string | undefined; enabled: boolean };
  /** OpenTelemetry traces to an OTLP/HTTP collector; off when `endpoint` is undefined. */
  readonly tracing: { endpoint: string | undefined; serviceName: string; sampleRatio: number };
  readonly keepAliveTimeoutMs: number;
  readonly shutdownDelayMs: number;
  readonly shutdownTimeoutMs: number;

  constructor(env: Env, jwtSecret: string) {
    this.port = env.PORT;
    this.host = env.HOST;
    this.env = env.ENV;
    this.dataDir = resolve(env.DATA_DIR);
    this.database = {
      url: env.DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      embeddedSharedBuffersMb: env.EMBEDDED_SHARED_BUFFERS_MB,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    };
    this.jwt = {
      secret: jwtSecret,
      accessTokenMinutes: env.JWT_ACCESS_TOKEN_EXPIRE_MINUTES,
      refreshTokenDays: env.JWT_REFRESH_TOKEN_EXPIRE_DAYS,
    };
    this.s3 = {
      bucket: env.S3_BUCKET,
      region: env.S3_REGION,
      endpointUrl: env.S3_ENDPOINT_URL,
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    };
    this.redisUrl = env.REDIS_URL;
    this.stripe = {
      secretKey: env.STRIPE_SECRET_KEY,
      webhookSecret: env.STRIPE_WEBHOOK_SECRET,
      connectWebhookSecret: env.STRIPE_CONNECT_WEBHOOK_SECRET,
      apiUrl: env.STRIPE_API_URL,
      prices: { pro: env.STRIPE_PRICE_PRO, power: env.STRIPE_PRICE_POWER, team: env.STRIPE_PRICE_TEAM },
      successUrl: env.CHECKOUT_SUCCESS_URL,
      cancelUrl: env.CHECKOUT_CANCEL_URL,
      connectReturnUrl: env.CONNECT_RETURN_URL,
      connectRefreshUrl: env.CONNECT_REFRESH_URL,
    };
    this.llm = {
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL,
      model: env.LLM_MODEL,
      routerModel: env.LLM_ROUTER_MODEL,
      embeddingsModel: env.EMBEDDINGS_MODEL,
      models: llmModels(env),
      timeoutMs: env.LLM_TIMEOUT_MS,
      maxRetries: env.LLM_MAX_RETRIES,
      maxOutputTokens: env.LLM_MAX_OUTPUT_TOKENS,
      prices: env.LLM_PRICES,
      dailyBudgetUsd: env.LLM_DAILY_BUDGET_USD,
      metering: env.USAGE_METERING,
    };
    this.chatResume = { enabled: env.CHAT_RESUME, graceMs: env.CHAT_RESUME_GRACE_MS };
    this.vectorDimensions = env.VECTOR_DIMENSIONS;
    this.vectorMaxBlobBytes = env.VECTOR_MAX_BLOB_BYTES;
    this.corsOrigins = env.CORS_ORIGINS;
    // An email is no proof of who registered it: outside dev, a list of addresses must not make admins.
    this.adminEmails = this.env === 'dev' ? env.ADMIN_EMAILS.map((e) => e.toLowerCase()) : [];
    this.adminEmailsIgnored = this.env !== 'dev' && env.ADMIN_EMAILS.length > 0;
    this.defaultTier = env.DEFAULT_TIER;
    this.trustProxy = env.TRUST_PROXY;
    this.logLevel = env.LOG_LEVEL;
    this.swaggerEnabled = this.env === 'dev' || env.SWAGGER_ENABLED;
    this.rateLimitEnabled = env.RATE_LIMIT_ENABLED;
    this.authRateLimit = {
      perIpPerMinute: env.AUTH_RATE_LIMIT_PER_IP,
      perAccountPer15Minutes: env.AUTH_RATE_LIMIT_PER_ACCOUNT,
    };
    this.authFailureLimit = {
      perIpPerMinute: env.AUTH_FAILURE_LIMIT_PER_IP,
      perApiKeyPrefixPerMinute: env.AUTH_FAILURE_LIMIT_PER_API_KEY_PREFIX,
    };
    this.socketLimits = {
      eventsPerSocket: env.SOCKET_EVENTS_PER_SOCKET,
      eventsPerAccount: env.SOCKET_EVENTS_PER_ACCOUNT,
      connectionsPerAccount: env.SOCKET_MAX_CONNECTIONS_PER_ACCOUNT,
    };
    this.jsonBodyLimitBytes = env.JSON_BODY_LIMIT_BYTES;
    this.storageMaxRecordBytes = env.STORAGE_MAX_RECORD_BYTES;
    this.attachments = {
      maxBytes: env.ATTACHMENT_MAX_BYTES,
      multipartBytes: env.ATTACHMENT_MULTIPART_BYTES,
      partBytes: env.ATTACHMENT_PART_BYTES,
      uploadTtlMs: env.ATTACHMENT_UPLOAD_TTL_MS,
      maxPending: env.ATTACHMENT_MAX_PENDING,
    };
    this.backupKeep = env.BACKUP_KEEP;
    this.blobSweep = { intervalMs: env.BLOB_SWEEP_INTERVAL_MS, graceMs: env.BLOB_SWEEP_GRACE_MS };
    this.accountErasure = {
      graceDays: env.ACCOUNT_ERASURE_GRACE_DAYS,
      jobsIntervalMs: env.ACCOUNT_JOBS_INTERVAL_MS,
      retryMs: env.ACCOUNT_ERASURE_RETRY_MS,
    };
    this.publicUrl = env.PUBLIC_URL?.replace(/\/+$/, '');
    this.teamInviteWebhook =
      env.TEAM_INVITE_WEBHOOK_URL && env.TEAM_INVITE_WEBHOOK_SECRET
        ? { url: env.TEAM_INVITE_WEBHOOK_URL, secret: env.TEAM_INVITE_WEBHOOK_SECRET }
        : undefined;
    this.pluginChecksTimeoutMs = env.PLUGIN_CHECKS_TIMEOUT_MS;
    this.pluginSubmissionsPerHour = env.PLUGIN_SUBMISSIONS_PER_HOUR;
    this.metrics = {
      port: env.METRICS_PORT,
      token: env.METRICS_TOKEN,
      enabled: env.METRICS_PORT !== undefined || env.METRICS_TOKEN !== undefined,
    };
    this.tracing = {
      endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, ''),
      serviceName: env.OTEL_SERVICE_NAME,
      sampleRatio: env.OTEL_TRACES_SAMPLE_RATIO,
    };
    this.keepAliveTimeoutMs = env.KEEP_ALIVE_TIMEOUT_MS;
    this.shutdownDelayMs = env.SHUTDOWN_DELAY_MS;
    this.shutdownTimeoutMs = env.SHUTDOWN_TIMEOUT_MS;
  }

  get isProd(): boolean {
    return this.env === 'prod';
  }
}

/** The environment's configuration with some variables set otherwise (a CLI's own needs). */
export function loadConfigWith(overrides: Record<string, string>): AppConfig {
  return loadConfig({ ...process.env, ...overrides });
}

/**
 * Validates `source` (the process environment by default) and returns the
 * configuration, or throws one ConfigError naming every bad variable. Values
 * are never echoed: some of them are secrets.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = envSchema.safeParse(source);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.')} ${issue.message}`);
    }
  }
  const env = parsed.success ? parsed.data : undefined;
  const envName = env?.ENV ?? (source.ENV?.trim() || 'dev');
  if (envName === 'prod' && !source.JWT_SECRET?.trim()) {
    problems.push('JWT_SECRET is required when ENV=prod (a random string of at least 32 characters)');
  }
  if (envName === 'prod' && !source.PUBLIC_URL?.trim()) {
    problems.push(
      "PUBLIC_URL is required when ENV=prod (the API's public origin, e.g. https://api.example.com: " +
        "links given to clients are built on it, never on a request's Host)",
    );
  }
  if (env && env.METRICS_PORT !== undefined && env.METRICS_PORT === env.PORT) {
    problems.push(
      'METRICS_PORT must differ from PORT (metrics are never served on the public port without a token)',
    );
  }
  if (env && !env.TEAM_INVITE_WEBHOOK_URL !== !env.TEAM_INVITE_WEBHOOK_SECRET) {
    problems.push(
      'TEAM_INVITE_WEBHOOK_URL and TEAM_INVITE_WEBHOOK_SECRET go together (the secret signs what is sent to the URL)',
    );
  }
  if (env) problems.push(...llmConfigProblems(env, env.LLM_PRICES));
  if (problems.length > 0 || !env) throw new ConfigError(problems);
  return new AppConfig(env, env.JWT_SECRET ?? devJwtSecret(resolve(env.DATA_DIR)));
}

/** In dev, a secret generated once and kept in DATA_DIR so tokens survive restarts. */
function devJwtSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

/** Reads `.env` from the working directory when present, without overriding real variables. */
export function loadDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
}
