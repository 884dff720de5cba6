import { Injectable } from '@nestjs/common';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import * as oidc from 'openid-client';
import { AppConfig } from '../../config/app-config.js';
import { SsoException } from './sso.errors.js';

/** Seconds any one request to an identity provider may take. */
const PROVIDER_TIMEOUT_S = 10;
/** A JWKS larger than this is not a key set anybody publishes. */
const MAX_JWKS_BYTES = 512 * 1024;

/** The checks a callback is held to: the attempt's PKCE verifier, state and nonce. */
export interface CallbackChecks {
  codeVerifier: string;
  state: string;
  nonce: string;
}

/** What a verified sign-in says about the person. */
export interface VerifiedIdentity {
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
}

/**
 * The OpenID Connect relying party, all through `openid-client`: discovery, authorization URLs
 * with PKCE, state and nonce, the code exchange and the ID token's checks (signature against
 * the provider's JWKS, issuer, audience, nonce, expiry). Only https issuers, except in dev.
 */
@Injectable()
export class OidcRelyingParty {
  constructor(private readonly config: AppConfig) {}

  /**
   * The provider's discovery document, fetched from the issuer and checked (its `issuer`
   * equals the one given, the endpoints a code flow needs are there, its JWKS holds a usable
   * signing key). Throws 400 `sso_issuer_invalid` saying what is wrong.
   */
  async discover(issuer: string, clientId: string, clientSecret: string): Promise<Record<string, unknown>> {
    const url = this.issuerUrlOrThrow(issuer);
    let configuration: oidc.Configuration;
    try {
      configuration = await oidc.discovery(url, clientId, clientSecret, undefined, {
        execute: url.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
        timeout: PROVIDER_TIMEOUT_S,
      });
    } catch (err) {
      throw issuerInvalid(`its discovery document could not be used (${describe(err)})`);
    }
    const metadata = configuration.serverMetadata();
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
      if (typeof metadata[field] !== 'string') throw issuerInvalid(`its discovery document has no ${field}`);
    }
    const methods = metadata.code_challenge_methods_supported;
    if (Array.isArray(methods) && !methods.includes('S256')) {
      throw issuerInvalid('it does not support PKCE with S256 (code_challenge_methods_supported)');
    }
    await this.assertSigningKeys(metadata.jwks_uri!);
    return JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>;
  }

  /** The client of a saved connection, from the metadata validated at save (no discovery per sign-in). */
  client(metadata: Record<string, unknown>, clientId: string, clientSecret: string): oidc.Configuration {
    const server = metadata as unknown as oidc.ServerMetadata;
    const methods = server.token_endpoint_auth_methods_supported;
    // client_secret_basic is the default of the specification; post only where basic is not offered.
    const auth =
      Array.isArray(methods) &&
      !methods.includes('client_secret_basic') &&
      methods.includes('client_secret_post')
        ? oidc.ClientSecretPost(clientSecret)
        : oidc.ClientSecretBasic(clientSecret);
    const configuration = new oidc.Configuration(server, clientId, undefined, auth);
    if (server.issuer.startsWith('http:') && !this.config.isProd) oidc.allowInsecureRequests(configuration);
    // The specification lets a client trust TLS for a token from the token endpoint; we check the
    // signature against the provider's JWKS all the same, so a token the provider did not sign is refused.
    oidc.enableNonRepudiationChecks(configuration);
    configuration.timeout = PROVIDER_TIMEOUT_S;
    return configuration;
  }

  /** The provider's authorization URL for a code flow with PKCE (S256), state and nonce. */
  async authorizationUrl(
    client: oidc.Configuration,
    callbackUrl: string,
    checks: CallbackChecks,
    loginHint: string | undefined,
  ): Promise<string> {
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: callbackUrl,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
      state: checks.state,
      nonce: checks.nonce,
      ...(loginHint ? { login_hint: loginHint } : {}),
    });
    return url.href;
  }

  /**
   * Trades the callback's code (with the PKCE verifier) and verifies the ID token; the email
   * comes from the ID token, or from UserInfo when the provider keeps it there. Refusals are
   * `sso_failed` (the provider said no) or `id_token_invalid` with the check that failed.
   */
  async verifyCallback(
    client: oidc.Configuration,
    currentUrl: URL,
    checks: CallbackChecks,
  ): Promise<VerifiedIdentity> {
    try {
      const tokens = await oidc.authorizationCodeGrant(client, currentUrl, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      if (typeof claims.email === 'string') return identityOf(claims.sub, claims);
      const userInfo = await oidc.fetchUserInfo(client, tokens.access_token, claims.sub);
      return identityOf(claims.sub, userInfo);
    } catch (err) {
      throw callbackRefusal(err);
    }
  }

  private issuerUrlOrThrow(issuer: string): URL {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw issuerInvalid('it is not an absolute URL');
    }
    const secure = url.protocol === 'https:' || (url.protocol === 'http:' && !this.config.isProd);
    if (!secure || url.search || url.hash || url.username) {
      throw issuerInvalid('it must be an https URL without query, fragment or credentials');
    }
    return url;
  }

  /** The JWKS must hold at least one key Node can import for verifying signatures. */
  private async assertSigningKeys(jwksUri: string): Promise<void> {
    let keys: unknown;
    try {
      const response = await fetch(jwksUri, {
        redirect: 'error',
        signal: AbortSignal.timeout(PROVIDER_TIMEOUT_S * 1000),
        headers: { accept: 'application/json, application/jwk-set+json' },
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      if (text.length > MAX_JWKS_BYTES) throw new Error('the key set is too large');
      keys = (JSON.parse(text) as { keys?: unknown }).keys;
    } catch (err) {
      throw issuerInvalid(`its JWKS (jwks_uri) could not be fetched (${describe(err)})`);
    }
    const usable = Array.isArray(keys) ? keys.filter(isSigningKey) : [];
    if (usable.length === 0) throw issuerInvalid('its JWKS (jwks_uri) holds no usable signing key');
  }
}

function isSigningKey(jwk: unknown): boolean {
  if (!jwk || typeof jwk !== 'object' || (jwk as { use?: unknown }).use === 'enc') return false;
  if ((jwk as { d?: unknown }).d !== undefined) return false; // a private key published is not a key set
  try {
    createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}

function identityOf(subject: string, claims: Readonly<Record<string, unknown>>): VerifiedIdentity {
  return {
    subject,
    email: typeof claims.email === 'string' ? claims.email : undefined,
    // Some providers send the flag as a string.
    emailVerified: claims.email_verified === true || claims.email_verified === 'true',
  };
}

function issuerInvalid(why: string): SsoException {
  return new SsoException('sso_issuer_invalid', `The issuer cannot be used: ${why}`);
}

/** A short reason from a library error, without any token or secret (messages of openid-client carry none). */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.slice(0, 200);
}

/** Which check of the ID token (or the response carrying it) failed. */
export type IdTokenCheck = 'signature' | 'issuer' | 'audience' | 'nonce' | 'expired' | 'claims';

/** The refusal a failed code exchange or ID token check answers. */
function callbackRefusal(err: unknown): SsoException {
  if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError) {
    return new SsoException('sso_failed', `The identity provider refused the sign-in (${err.error})`, {
      provider_error: err.error,
    });
  }
  const check = failedCheck(err);
  if (check) {
    return new SsoException(
      'id_token_invalid',
      `The identity provider's ID token failed its ${check} check`,
      {
        reason: check,
      },
    );
  }
  return new SsoException(
    'sso_failed',
    `The sign-in could not be completed with the identity provider (${describe(err)})`,
  );
}

function failedCheck(err: unknown): IdTokenCheck | undefined {
  if (!(err instanceof oidc.ClientError)) return undefined;
  const inner = err.cause as { message?: string; cause?: { claim?: string } } | undefined;
  const claim = inner?.cause?.claim;
  const message = inner?.message ?? err.message;
  switch (err.code ?? '') {
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
      return claim === 'iss'
        ? 'issuer'
        : claim === 'aud' || claim === 'azp'
          ? 'audience'
          : claim === 'nonce'
            ? 'nonce'
            : 'claims';
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
      return claim === 'exp' ? 'expired' : 'claims';
    case 'OAUTH_KEY_SELECTION_FAILED':
      return 'signature';
    case 'OAUTH_INVALID_RESPONSE':
      return /signature/i.test(message) ? 'signature' : /"iss"/.test(message) ? 'issuer' : undefined;
    default:
      return undefined;
  }
}
