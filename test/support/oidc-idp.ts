import { createSign, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

/** A person at the test identity provider. */
export interface IdpAccount {
  sub: string;
  email: string;
  email_verified: boolean;
}

/** Changes to the next ID token's claims; it is signed again with the provider's key, or with `foreignKey`. */
export interface IdTokenTamper {
  claims: (claims: Record<string, unknown>) => Record<string, unknown>;
  foreignKey?: boolean;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * A real OpenID provider (`oidc-provider`) in the test process on a random loopback port, with
 * one confidential client. Its login and consent are completed programmatically: the account
 * that signs in is `signInAs`. `tamperNextIdToken` re-signs the next token response's ID token
 * with changed claims (as a misbehaving provider would issue it), to drive each refusal.
 */
export class TestIdp {
  readonly clientId = `client-${randomUUID().slice(0, 8)}`;
  readonly clientSecret = `secret-${randomUUID()}`;
  issuer = '';
  private server?: Server;
  private provider?: Provider;
  private readonly accounts = new Map<string, IdpAccount>();
  private current?: IdpAccount;
  private tamper?: IdTokenTamper;
  private readonly signingKey: KeyObject;
  private readonly foreignKey: KeyObject;
  private readonly kid = randomUUID();

  constructor() {
    this.signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    this.foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }

  async start(redirectUris: string[]): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const jwk = { ...this.signingKey.export({ format: 'jwk' }), kid: this.kid, alg: 'RS256', use: 'sig' };
    this.provider = new Provider(this.issuer, {
      clients: [
        {
          client_id: this.clientId,
          client_secret: this.clientSecret,
          redirect_uris: redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      jwks: { keys: [jwk] },
      cookies: { keys: [randomUUID()] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'] },
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
      findAccount: (_ctx, sub) => {
        const account = this.accounts.get(sub);
        return account ? { accountId: sub, claims: () => ({ ...account }) } : undefined;
      },
    });
  }

  /** The account the next sign-in authenticates as. */
  signInAs(account: IdpAccount): void {
    this.accounts.set(account.sub, account);
    this.current = account;
  }

  tamperNextIdToken(tamper: IdTokenTamper): void {
    this.tamper = tamper;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.url?.startsWith('/interaction/')) return await this.interact(req, res);
      if (req.url?.startsWith('/token') && this.tamper) this.rewriteIdToken(res, this.tamper);
      this.tamper = req.url?.startsWith('/token') ? undefined : this.tamper;
      await this.provider!.callback()(req, res);
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  }

  /** Completes login (as `current`) and consent without a browser. */
  private async interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const provider = this.provider!;
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: this.current!.sub } });
      return;
    }
    const grant = new provider.Grant({
      accountId: details.session!.accountId,
      clientId: String(details.params.client_id),
    });
    grant.addOIDCScope(String(details.params.scope));
    await provider.interactionFinished(
      req,
      res,
      { consent: { grantId: await grant.save() } },
      {
        mergeWithLastSubmission: true,
      },
    );
  }

  /** Re-signs the ID token of the token response about to be written, with changed claims. */
  private rewriteIdToken(res: ServerResponse, tamper: IdTokenTamper): void {
    const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
    res.end = ((chunk?: unknown) => {
      if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk)) return end(chunk);
      const body = JSON.parse(chunk.toString()) as { id_token?: string };
      if (body.id_token) body.id_token = this.resign(body.id_token, tamper);
      const text = JSON.stringify(body);
      res.setHeader('content-length', Buffer.byteLength(text));
      return end(text);
    }) as ServerResponse['end'];
  }

  private resign(idToken: string, tamper: IdTokenTamper): string {
    const [header, payload] = idToken.split('.');
    const claims = tamper.claims(
      JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
    );
    const input = `${header}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256')
      .update(input)
      .sign(tamper.foreignKey ? this.foreignKey : this.signingKey);
    return `${input}.${b64url(signature)}`;
  }
}

/**
 * Follows an authorization URL like a browser without a page (cookies kept, redirects followed
 * by hand) until it reaches `stopAt`; answers that URL (our callback with the provider's answer).
 */
export async function followRedirects(authorizationUrl: string, stopAt: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  for (let hop = 0; hop < 12; hop++) {
    if (url.startsWith(stopAt)) return new URL(url);
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const set of res.headers.getSetCookie()) {
      const pair = set.split(';')[0];
      jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`no redirect from ${url}: ${res.status} ${await res.text()}`);
    url = new URL(location, url).href;
  }
  throw new Error('too many redirects');
}
