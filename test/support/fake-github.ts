import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A GitHub user as /user and /user/emails describe them. */
export interface GithubUser {
  id: number;
  login: string;
  emails: Array<{ email: string; primary: boolean; verified: boolean }>;
}

/**
 * A local server speaking GitHub's OAuth endpoints for an OAuth app: /login/oauth/authorize
 * (approves at once as `signInAs`), /login/oauth/access_token (client secret and PKCE S256
 * checked, errors in a 200 body as GitHub does), /user and /user/emails (Bearer token).
 */
export class FakeGithub {
  readonly clientId = 'Iv1.testclient';
  readonly clientSecret = randomBytes(20).toString('hex');
  url = '';
  private server?: Server;
  private current?: GithubUser;
  private readonly codes = new Map<string, { user: GithubUser; challenge: string; redirectUri: string }>();
  private readonly tokens = new Map<string, GithubUser>();

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  signInAs(user: GithubUser): void {
    this.current = user;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') return this.authorize(url, res);
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token')
      return this.token(await body(req), res);
    const user = this.tokens.get((req.headers.authorization ?? '').replace(/^(Bearer|token) /i, ''));
    if (!user) return json(res, 401, { message: 'Bad credentials' });
    if (url.pathname === '/user') return json(res, 200, { id: user.id, login: user.login });
    if (url.pathname === '/user/emails')
      return json(
        res,
        200,
        user.emails.map((e) => ({ ...e, visibility: null })),
      );
    json(res, 404, { message: 'Not Found' });
  }

  private authorize(url: URL, res: ServerResponse): void {
    const redirectUri = url.searchParams.get('redirect_uri') ?? '';
    if (
      url.searchParams.get('client_id') !== this.clientId ||
      url.searchParams.get('code_challenge_method') !== 'S256'
    ) {
      return json(res, 400, { message: 'bad authorization request' });
    }
    const code = randomBytes(10).toString('hex');
    this.codes.set(code, {
      user: this.current!,
      challenge: url.searchParams.get('code_challenge') ?? '',
      redirectUri,
    });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', url.searchParams.get('state') ?? '');
    res.writeHead(302, { location: back.href }).end();
  }

  private token(form: URLSearchParams, res: ServerResponse): void {
    const grant = this.codes.get(form.get('code') ?? '');
    this.codes.delete(form.get('code') ?? '');
    const challenge = createHash('sha256')
      .update(form.get('code_verifier') ?? '')
      .digest('base64url');
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      return json(res, 200, { error: 'incorrect_client_credentials' });
    }
    if (!grant || grant.challenge !== challenge || grant.redirectUri !== form.get('redirect_uri')) {
      return json(res, 200, {
        error: 'bad_verification_code',
        error_description: 'The code is incorrect or expired.',
      });
    }
    const token = `gho_${randomBytes(16).toString('hex')}`;
    this.tokens.set(token, grant.user);
    json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
  }
}

async function body(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(value));
}
