import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'adiuva-config-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig({ DATA_DIR: dataDir, ...env });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('applies the documented defaults', () => {
    const c = loadConfig({ DATA_DIR: dataDir });
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.env).toBe('dev');
    expect(c.database.url).toBeUndefined();
    expect(c.jwt).toMatchObject({ accessTokenMinutes: 30, refreshTokenDays: 30 });
    expect(c.s3.region).toBe('us-east-1');
    expect(c.stripe.prices).toEqual({
      pro: 'price_pro_monthly',
      power: 'price_power_monthly',
      team: 'price_team_monthly',
    });
    expect(c.llm).toMatchObject({
      model: 'gpt-4o',
      routerModel: 'gpt-4o-mini',
      embeddingsModel: 'text-embedding-3-small',
      timeoutMs: 60_000,
      maxRetries: 2,
    });
    expect(c.vectorDimensions).toBe(1536);
    expect(c.corsOrigins).toEqual(['app://.', 'http://localhost:3000', 'http://localhost:5173']);
    expect(c.defaultTier).toBe('free');
    expect(c.trustProxy).toBe(false);
    expect(c.logLevel).toBe('info');
    expect(c.swaggerEnabled).toBe(true);
    expect(c.jsonBodyLimitBytes).toBe(1024 * 1024);
    expect(c.keepAliveTimeoutMs).toBe(75_000); // above the 60 s idle timeout of common load balancers
  });

  it('names every bad variable in one error', () => {
    const problems = problemsOf({
      PORT: '70000',
      ENV: 'staging',
      VECTOR_DIMENSIONS: '12.5',
      DEFAULT_TIER: 'gold',
      REDIS_URL: 'localhost:6379',
      SWAGGER_ENABLED: 'maybe',
      TRUST_PROXY: 'everyone!',
    });
    const named = problems.map((p) => p.split(' ')[0]).sort();
    expect(named).toEqual(
      [
        'DEFAULT_TIER',
        'ENV',
        'PORT',
        'REDIS_URL',
        'SWAGGER_ENABLED',
        'TRUST_PROXY',
        'VECTOR_DIMENSIONS',
      ].sort(),
    );
    expect(problems).toContain('PORT must be an integer between 0 and 65535');
    expect(problems).toContain('DEFAULT_TIER must be one of free, pro, power, team');
  });

  it('requires a JWT_SECRET of 32+ characters in prod and never echoes values', () => {
    const publicUrl = { PUBLIC_URL: 'https://api.example.com' };
    expect(problemsOf({ ENV: 'prod', ...publicUrl })).toEqual([
      'JWT_SECRET is required when ENV=prod (a random string of at least 32 characters)',
    ]);
    const problems = problemsOf({ ENV: 'prod', JWT_SECRET: 'too-short-to-be-safe', ...publicUrl });
    expect(problems).toEqual(['JWT_SECRET must be at least 32 characters']);
    expect(problems.join(' ')).not.toContain('too-short-to-be-safe');

    const prod = loadConfig({ DATA_DIR: dataDir, ENV: 'prod', JWT_SECRET: 's'.repeat(32), ...publicUrl });
    expect(prod.jwt.secret).toBe('s'.repeat(32));
    expect(prod.swaggerEnabled).toBe(false);
    expect(
      loadConfig({
        DATA_DIR: dataDir,
        ENV: 'prod',
        JWT_SECRET: 's'.repeat(32),
        SWAGGER_ENABLED: 'true',
        ...publicUrl,
      }).swaggerEnabled,
    ).toBe(true);
  });

  it('requires PUBLIC_URL in prod, an http(s) URL, kept without its trailing slash', () => {
    const prod = { ENV: 'prod', JWT_SECRET: 's'.repeat(32) };
    expect(problemsOf(prod)).toEqual([
      "PUBLIC_URL is required when ENV=prod (the API's public origin, e.g. https://api.example.com: " +
        "links given to clients are built on it, never on a request's Host)",
    ]);
    expect(problemsOf({ ...prod, PUBLIC_URL: 'ftp://api.example.com' })).toEqual([
      'PUBLIC_URL must be a URL with scheme http or https',
    ]);
    expect(loadConfig({ DATA_DIR: dataDir, ...prod, PUBLIC_URL: 'https://api.example.com/' }).publicUrl).toBe(
      'https://api.example.com',
    );
    expect(loadConfig({ DATA_DIR: dataDir }).publicUrl).toBeUndefined();
  });

  it('applies ADMIN_EMAILS in dev only: in prod the list is empty and flagged as ignored', () => {
    const dev = loadConfig({ DATA_DIR: dataDir, ADMIN_EMAILS: 'boss@example.com' });
    expect(dev.adminEmails).toEqual(['boss@example.com']);
    expect(dev.adminEmailsIgnored).toBe(false);
    const prod = loadConfig({
      DATA_DIR: dataDir,
      ENV: 'prod',
      JWT_SECRET: 's'.repeat(32),
      PUBLIC_URL: 'https://api.example.com',
      ADMIN_EMAILS: 'boss@example.com',
    });
    expect(prod.adminEmails).toEqual([]);
    expect(prod.adminEmailsIgnored).toBe(true);
  });

  it('in dev, generates a JWT secret once and keeps it in DATA_DIR (owner-only)', () => {
    const first = loadConfig({ DATA_DIR: dataDir }).jwt.secret;
    const second = loadConfig({ DATA_DIR: dataDir }).jwt.secret;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(second).toBe(first);
    const file = join(dataDir, 'jwt-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('parses lists, TRUST_PROXY forms and case-insensitive enums', () => {
    const c = loadConfig({
      DATA_DIR: dataDir,
      CORS_ORIGINS: ' https://a.example , https://b.example ,',
      ADMIN_EMAILS: 'Boss@Example.com',
      DEFAULT_TIER: 'TEAM',
      TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
    });
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.adminEmails).toEqual(['boss@example.com']);
    expect(c.defaultTier).toBe('team');
    expect(c.trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(loadConfig({ DATA_DIR: dataDir, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ DATA_DIR: dataDir, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  });

  it('keeps metrics and tracing off by default, and validates their variables', () => {
    const off = loadConfig({ DATA_DIR: dataDir });
    expect(off.metrics).toEqual({ port: undefined, token: undefined, enabled: false });
    expect(off.tracing).toEqual({ endpoint: undefined, serviceName: 'adiuva-cloud-api', sampleRatio: 1 });
    const on = loadConfig({
      DATA_DIR: dataDir,
      METRICS_PORT: '9464',
      METRICS_TOKEN: '0123456789abcdef',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_TRACES_SAMPLE_RATIO: '0.25',
    });
    expect(on.metrics).toEqual({ port: 9464, token: '0123456789abcdef', enabled: true });
    expect(on.tracing).toMatchObject({ endpoint: 'http://collector:4318', sampleRatio: 0.25 });
    const named = (env: Record<string, string>) => problemsOf(env).map((p) => p.split(' ')[0]);
    expect(named({ METRICS_TOKEN: 'short-token' })).toEqual(['METRICS_TOKEN']);
    expect(named({ METRICS_PORT: '0' })).toEqual(['METRICS_PORT']);
    expect(named({ METRICS_PORT: '70000' })).toEqual(['METRICS_PORT']);
    expect(named({ METRICS_PORT: '3000' })).toEqual(['METRICS_PORT']);
    expect(named({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT']);
    expect(named({ OTEL_TRACES_SAMPLE_RATIO: '1.5' })).toEqual(['OTEL_TRACES_SAMPLE_RATIO']);
    expect(problemsOf({ METRICS_TOKEN: 'a-secret-metrics-token' }).join(' ')).not.toContain('a-secret');
  });

  it('treats empty values as unset', () => {
    const c = loadConfig({ DATA_DIR: dataDir, PORT: '', DATABASE_URL: ' ', S3_BUCKET: '' });
    expect(c.port).toBe(3000);
    expect(c.database.url).toBeUndefined();
    expect(c.s3.bucket).toBeUndefined();
  });
});
