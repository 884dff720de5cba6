import { z } from 'zod';
import { modelId, modelSpecProblem } from './model-ref.js';

/**
 * Every environment variable the service reads (the product's settings plus the operational
 * knobs of the foundation). Values arrive as strings; each field parses and
 * checks its own. Variables of modules that land later are validated here too,
 * so a typo fails at start instead of at first use.
 */

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const optionalString = () => z.preprocess(emptyToUndefined, z.string().optional());

const int = (def: number, min: number, max: number) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return def;
        if (!/^-?\d+$/.test(v.trim())) {
          ctx.addIssue({ code: 'custom', message: `must be an integer between ${min} and ${max}` });
          return z.NEVER;
        }
        const n = Number(v);
        if (n < min || n > max) {
          ctx.addIssue({ code: 'custom', message: `must be an integer between ${min} and ${max}` });
          return z.NEVER;
        }
        return n;
      }),
  );

const bool = (def: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return def;
        const s = v.trim().toLowerCase();
        if (['true', '1', 'yes'].includes(s)) return true;
        if (['false', '0', 'no'].includes(s)) return false;
        ctx.addIssue({ code: 'custom', message: 'must be true or false' });
        return z.NEVER;
      }),
  );

const url = (protocols: string[]) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .refine(
        (v) => {
          if (v === undefined) return true;
          try {
            return protocols.includes(new URL(v).protocol);
          } catch {
            return false;
          }
        },
        { message: `must be a URL with scheme ${protocols.map((p) => p.replace(':', '')).join(' or ')}` },
      ),
  );

const list = (def: string) =>
  z.preprocess(
    (v) => emptyToUndefined(v) ?? def,
    z.string().transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  );

const TIERS = ['free', 'pro', 'power', 'team'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Express `trust proxy`: false/true, a hop count, or a list of addresses/subnets. */
const trustProxy = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .optional()
    .transform((v, ctx): boolean | number | string[] => {
      if (v === undefined) return false;
      const s = v.trim().toLowerCase();
      if (s === 'false' || s === '0') return false;
      if (s === 'true') return true;
      if (/^\d+$/.test(s)) return Number(s);
      const items = v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const ok = items.every(
        (x) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(x) || /^(loopback|linklocal|uniquelocal)$/.test(x),
      );
      if (!ok || items.length === 0) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be true, false, a hop count, or a comma list of addresses/subnets',
        });
        return z.NEVER;
      }
      return items;
    }),
);

/** A model name, `provider:model` or a bare name (OpenAI's). */
const modelSpec = (def: string) =>
  z.preprocess(
    (v) => emptyToUndefined(v) ?? def,
    z.string().superRefine((v, ctx) => {
      const problem = modelSpecProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (e.g. anthropic:claude-sonnet-4-5)` });
    }),
  );

/** A comma list of model names, each checked like a single one. */
const modelList = () =>
  z.preprocess(
    (v) => emptyToUndefined(v) ?? '',
    z.string().transform((v, ctx) => {
      const specs = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const spec of specs) {
        const problem = modelSpecProblem(spec);
        if (problem) ctx.addIssue({ code: 'custom', message: `"${spec}" ${problem}` });
      }
      return specs;
    }),
  );

/** An http(s) URL with a default (an optional inner schema would skip the default for a missing key). */
/** `{"model": [input, output]}` in USD per million tokens; merged over the built-in prices. */
const llmPrices = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return {};
      const fail = () => {
        ctx.addIssue({
          code: 'custom',
          message:
            'must be JSON {"provider:model": [input, output]} in USD per million tokens, e.g. ' +
            '{"anthropic:claude-sonnet-4-5": [3, 15]} (a bare name is an OpenAI model)',
        });
        return z.NEVER;
      };
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        return fail();
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return fail();
      const prices: Record<string, [number, number]> = {};
      for (const [model, pair] of Object.entries(parsed as Record<string, unknown>)) {
        const ok =
          Array.isArray(pair) &&
          pair.length === 2 &&
          // At most three decimals: prices are kept exactly, in nano-USD per token.
          pair.every(
            (n) =>
              typeof n === 'number' &&
              Number.isFinite(n) &&
              n >= 0 &&
              n <= 1_000_000 &&
              Math.abs(n * 1000 - Math.round(n * 1000)) < 1e-6,
          );
        if (!ok || modelSpecProblem(model)) return fail();
        // Keyed by provider:model; `gpt-4o` and `openai:gpt-4o` are one model.
        prices[modelId(model)] = pair as [number, number];
      }
      return prices;
    }),
);

/** `free=0.5,pro=5,power=10,team=20`: each tier's daily model budget in USD. */
const dailyBudgets = z.preprocess(
  (v) => emptyToUndefined(v) ?? 'free=0.5,pro=5,power=10,team=20',
  z.string().transform((v, ctx) => {
    const budgets: Record<(typeof TIERS)[number], number> = { free: 0.5, pro: 5, power: 10, team: 20 };
    for (const part of v
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const m = /^(free|pro|power|team)=(\d+(?:\.\d{1,6})?)$/.exec(part);
      if (!m) {
        ctx.addIssue({
          code: 'custom',
          message: `must be tier=USD pairs like free=0.5,pro=5,power=10,team=20 (got "${part}")`,
        });
        return z.NEVER;
      }
      budgets[m[1] as (typeof TIERS)[number]] = Number(m[2]);
    }
    return budgets;
  }),
);

const urlWithDefault = (fallback: string) =>
  z.preprocess(
    (v) => emptyToUndefined(v) ?? fallback,
    z.string().refine(
      (v) => {
        try {
          return ['http:', 'https:'].includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { message: 'must be a URL with scheme http or https' },
    ),
  );

export const envSchema = z.object({
  PORT: int(3000, 0, 65535),
  HOST: z.preprocess((v) => emptyToUndefined(v) ?? '0.0.0.0', z.string()),
  ENV: z.preprocess(
    (v) => emptyToUndefined(v) ?? 'dev',
    z.enum(['dev', 'prod'], { message: 'must be dev or prod' }),
  ),
  DATA_DIR: z.preprocess((v) => emptyToUndefined(v) ?? './data', z.string()),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DATABASE_POOL_MAX: int(10, 1, 1000),
  EMBEDDED_SHARED_BUFFERS_MB: int(32, 1, 4096),
  DATABASE_CONNECT_TIMEOUT_MS: int(5000, 100, 600_000),
  JWT_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
  ),
  JWT_ACCESS_TOKEN_EXPIRE_MINUTES: int(30, 1, 24 * 60),
  JWT_REFRESH_TOKEN_EXPIRE_DAYS: int(30, 1, 365),
  S3_BUCKET: optionalString(),
  S3_REGION: z.preprocess((v) => emptyToUndefined(v) ?? 'us-east-1', z.string()),
  S3_ENDPOINT_URL: url(['http:', 'https:']),
  AWS_ACCESS_KEY_ID: optionalString(),
  AWS_SECRET_ACCESS_KEY: optionalString(),
  REDIS_URL: url(['redis:', 'rediss:']),
  STRIPE_SECRET_KEY: optionalString(),
  STRIPE_WEBHOOK_SECRET: optionalString(),
  // The signing secret of the Connect webhook endpoint (events of developers' connected accounts).
  STRIPE_CONNECT_WEBHOOK_SECRET: optionalString(),
  STRIPE_API_URL: url(['http:', 'https:']),
  STRIPE_PRICE_PRO: z.preprocess((v) => emptyToUndefined(v) ?? 'price_pro_monthly', z.string()),
  STRIPE_PRICE_POWER: z.preprocess((v) => emptyToUndefined(v) ?? 'price_power_monthly', z.string()),
  STRIPE_PRICE_TEAM: z.preprocess((v) => emptyToUndefined(v) ?? 'price_team_monthly', z.string()),
  // Where Stripe Checkout sends the user back; {CHECKOUT_SESSION_ID} is filled in by Stripe.
  CHECKOUT_SUCCESS_URL: urlWithDefault(
    'http://localhost:5173/billing/success?session_id={CHECKOUT_SESSION_ID}',
  ),
  CHECKOUT_CANCEL_URL: urlWithDefault('http://localhost:5173/billing/cancelled'),
  // Where Stripe's Connect onboarding sends a plugin developer back (done, or the link expired).
  CONNECT_RETURN_URL: urlWithDefault('http://localhost:5173/plugins/developer/ready'),
  CONNECT_REFRESH_URL: urlWithDefault('http://localhost:5173/plugins/developer/retry'),
  OPENAI_API_KEY: optionalString(),
  OPENAI_BASE_URL: url(['http:', 'https:']),
  // Other providers' keys and endpoints (each official LangChain package's own settings).
  ANTHROPIC_API_KEY: optionalString(),
  ANTHROPIC_BASE_URL: url(['http:', 'https:']),
  GOOGLE_API_KEY: optionalString(),
  GOOGLE_BASE_URL: url(['http:', 'https:']),
  OLLAMA_BASE_URL: url(['http:', 'https:']),
  // Models are provider:model (openai, anthropic, google-genai, ollama); a bare name is OpenAI's.
  LLM_MODEL: modelSpec('gpt-4o'),
  LLM_ROUTER_MODEL: modelSpec('gpt-4o-mini'),
  EMBEDDINGS_MODEL: modelSpec('text-embedding-3-small'),
  // Tried in order when a call fails before its first token (provider error, timeout, 429).
  LLM_FALLBACK_MODELS: modelList(),
  // The models clients may pick with ChatRequest.model (LLM_MODEL always among them).
  LLM_MODELS_ALLOWED: modelList(),
  LLM_TIMEOUT_MS: int(60_000, 100, 600_000),
  LLM_MAX_RETRIES: int(2, 0, 10),
  // The most a model call may write (max_tokens): the worst case a budget reserves.
  LLM_MAX_OUTPUT_TOKENS: int(1024, 16, 128_000),
  LLM_PRICES: llmPrices,
  // Off: model calls are neither recorded nor held against budgets (a deployment that does not meter).
  USAGE_METERING: bool(true),
  LLM_DAILY_BUDGET_USD: dailyBudgets,
  // Chat streams keep their events for a resume; false: no event log, a stream nobody follows is aborted at once.
  CHAT_RESUME: bool(true),
  // How long a stream every client left keeps running for one of them to resume it.
  CHAT_RESUME_GRACE_MS: int(60_000, 0, 3_600_000),
  // pgvector's HNSW index takes at most 2000 dimensions of `vector`.
  VECTOR_DIMENSIONS: int(1536, 1, 2000),
  VECTOR_MAX_BLOB_BYTES: int(32 * 1024, 1, 1024 * 1024),
  CORS_ORIGINS: list('app://.,http://localhost:3000,http://localhost:5173'),
  // Accounts that are admins, with ENV=dev only (in prod: ignored, with a warning at start; an
  // operator grants the role with `npm run admin:grant`).
  ADMIN_EMAILS: list(''),
  DEFAULT_TIER: z.preprocess(
    (v) => (emptyToUndefined(v) as string | undefined)?.toLowerCase() ?? 'free',
    z.enum(TIERS, { message: `must be one of ${TIERS.join(', ')}` }),
  ),
  TRUST_PROXY: trustProxy,
  LOG_LEVEL: z.preprocess(
    (v) => (emptyToUndefined(v) as string | undefined)?.toLowerCase() ?? 'info',
    z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }),
  ),
  SWAGGER_ENABLED: bool(false),
  RATE_LIMIT_ENABLED: bool(true),
  AUTH_RATE_LIMIT_PER_IP: int(30, 1, 100_000),
  AUTH_RATE_LIMIT_PER_ACCOUNT: int(10, 1, 100_000),
  // Failed authentication (bad token or API key on REST, Socket.IO, WebSocket) per minute: per client
  // address, and per API-key prefix; past it 429, refused before any hash or database lookup.
  AUTH_FAILURE_LIMIT_PER_IP: int(30, 1, 100_000),
  AUTH_FAILURE_LIMIT_PER_API_KEY_PREFIX: int(30, 1, 100_000),
  // Socket events (`chat`, `resume`, `cancel`) counted before any database work: per socket and
  // per account (shared through Redis) per minute; and live sockets per account per instance.
  SOCKET_EVENTS_PER_SOCKET: int(60, 1, 100_000),
  SOCKET_EVENTS_PER_ACCOUNT: int(240, 1, 1_000_000),
  SOCKET_MAX_CONNECTIONS_PER_ACCOUNT: int(20, 1, 10_000),
  JSON_BODY_LIMIT_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  STORAGE_MAX_RECORD_BYTES: int(16 * 1024 * 1024, 1, 1024 * 1024 * 1024),
  BACKUP_KEEP: int(10, 1, 1000),
  // Attachments (large encrypted files sent straight to the blob store): the largest one (the
  // tier's quota caps it too), the size from which it is uploaded in parts, the part size, how long
  // an upload may stay unfinished before it is swept with its quota reservation, and how many
  // unfinished uploads one account may hold at once.
  ATTACHMENT_MAX_BYTES: int(5 * 1024 ** 3, 1, 5 * 1024 ** 4),
  ATTACHMENT_MULTIPART_BYTES: int(64 * 1024 ** 2, 5 * 1024 ** 2, 5 * 1024 ** 3),
  ATTACHMENT_PART_BYTES: int(16 * 1024 ** 2, 5 * 1024 ** 2, 5 * 1024 ** 3),
  ATTACHMENT_UPLOAD_TTL_MS: int(24 * 3_600_000, 1000, 7 * 24 * 3_600_000),
  ATTACHMENT_MAX_PENDING: int(10, 1, 1000),
  // How often unreferenced blobs and leftovers of interrupted writes are swept (0: never by itself).
  BLOB_SWEEP_INTERVAL_MS: int(3_600_000, 0, 7 * 24 * 3_600_000),
  // How old an unreferenced blob or a leftover must be before the sweep takes it (a younger one
  // may be a write in flight on some instance).
  BLOB_SWEEP_GRACE_MS: int(6 * 3_600_000, 0, 30 * 24 * 3_600_000),
  // Days between DELETE /account (the account disabled at once) and its erasure; POST /account/restore
  // undoes it until then.
  ACCOUNT_ERASURE_GRACE_DAYS: int(30, 0, 365),
  // How often queued exports, due erasures (and their retries) and expired export archives are looked
  // for (0: only when a request queues work).
  ACCOUNT_JOBS_INTERVAL_MS: int(60_000, 0, 24 * 3_600_000),
  // How long an erasure that failed (blob store or Stripe unreachable) waits before it is retried.
  ACCOUNT_ERASURE_RETRY_MS: int(600_000, 0, 7 * 24 * 3_600_000),
  // The API's public origin, for absolute URLs given to clients (plugin downloads with the files
  // driver); never taken from a request's Host. Required when ENV=prod; unset in dev: the address
  // the server listens on (http://localhost:PORT on a wildcard address).
  PUBLIC_URL: url(['http:', 'https:']),
  // Team invitations: when set, each new invite is also POSTed here as JSON (the invitee's email, the
  // team, the accept URL), signed with TEAM_INVITE_WEBHOOK_SECRET, for the operator's own mailer.
  TEAM_INVITE_WEBHOOK_URL: url(['http:', 'https:']),
  TEAM_INVITE_WEBHOOK_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  ),
  // The deadline of a plugin submission's automated checks, counted from when a worker thread takes
  // them; past it the submission is `checks_errored` (never passed), and a worker still busy a second
  // later is terminated.
  PLUGIN_CHECKS_TIMEOUT_MS: int(20_000, 1, 600_000),
  // Plugin submissions one account may send per hour, counted as they arrive (failed ones too):
  // past it 429 with Retry-After, so nobody keeps the check workers busy with packages that fail.
  PLUGIN_SUBMISSIONS_PER_HOUR: int(20, 1, 10_000),
  // Observability. /metrics is off unless one of the two is set: its own port (no token needed
  // there unless METRICS_TOKEN is set too), or the public API behind `Authorization: Bearer`.
  METRICS_PORT: z.preprocess(emptyToUndefined, int(0, 1, 65535).optional()),
  METRICS_TOKEN: z.preprocess(
    emptyToUndefined,
    z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  ),
  // Traces go to this OTLP/HTTP collector (`/v1/traces` is appended); unset: tracing is off.
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']),
  OTEL_SERVICE_NAME: z.preprocess((v) => emptyToUndefined(v) ?? 'adiuva-cloud-api', z.string()),
  // Share of requests traced (a trace started upstream keeps its own decision).
  OTEL_TRACES_SAMPLE_RATIO: z.preprocess(
    (v) => emptyToUndefined(v) ?? '1',
    z.string().transform((v, ctx) => {
      const n = Number(v);
      if (!/^\d+(\.\d+)?$/.test(v.trim()) || n < 0 || n > 1) {
        ctx.addIssue({ code: 'custom', message: 'must be a number between 0 and 1' });
        return z.NEVER;
      }
      return n;
    }),
  ),
  KEEP_ALIVE_TIMEOUT_MS: int(75_000, 1000, 600_000),
  SHUTDOWN_DELAY_MS: int(0, 0, 60_000),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100, 120_000),
});

export type Env = z.output<typeof envSchema>;
export type Tier = (typeof TIERS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
