import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StripeRequest {
  method: string;
  path: string;
  form: Record<string, string>;
  idempotencyKey?: string;
}

interface Failure {
  method: string;
  path: RegExp;
  status: number;
  type: string;
  message: string;
  code?: string;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * A local HTTP server speaking the part of Stripe's API the service calls:
 * form-encoded requests, Stripe-shaped JSON objects and Stripe-shaped errors,
 * idempotency keys, bearer secret keys. The service uses the real `stripe`
 * library against it (STRIPE_API_URL).
 */
export class FakeStripe {
  static readonly SECRET_KEY = 'sk_test_fake_adiuva';
  readonly requests: StripeRequest[] = [];
  readonly customers = new Map<string, Record<string, unknown>>();
  readonly canceled: string[] = [];
  private readonly idempotent = new Map<string, { status: number; body: unknown }>();
  private failures: Failure[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Answer matching requests with a Stripe error until `clearFailures()`. */
  failWith(method: string, path: RegExp, status: number, type: string, message: string, code?: string): void {
    this.failures.push({ method, path, status, type, message, code });
  }

  clearFailures(): void {
    this.failures = [];
  }

  requestsTo(method: string, path: string | RegExp): StripeRequest[] {
    return this.requests.filter(
      (r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const path = (req.url ?? '').split('?')[0];
    const method = req.method ?? 'GET';
    const idem = req.headers['idempotency-key'] as string | undefined;
    this.requests.push({ method, path, form, idempotencyKey: idem });

    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Request-Id': id('req') });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${FakeStripe.SECRET_KEY}`) {
      return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }
    const failure = this.failures.find((f) => f.method === method && f.path.test(path));
    if (failure) {
      return send(failure.status, {
        error: { type: failure.type, message: failure.message, code: failure.code },
      });
    }
    const key = idem ? `${method} ${path} ${idem}` : undefined;
    if (key && this.idempotent.has(key)) {
      const prior = this.idempotent.get(key)!;
      return send(prior.status, prior.body);
    }
    const [status, body] = this.route(method, path, form);
    if (key) this.idempotent.set(key, { status, body });
    send(status, body);
  }

  private route(method: string, path: string, form: Record<string, string>): [number, unknown] {
    const created = Math.floor(Date.now() / 1000);
    if (method === 'POST' && path === '/v1/customers') {
      const customer = {
        id: id('cus'),
        object: 'customer',
        created,
        email: form.email ?? null,
        metadata: metadataOf(form),
        livemode: false,
      };
      this.customers.set(customer.id, customer);
      return [200, customer];
    }
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      if (!form.customer || !this.customers.has(form.customer)) {
        return [
          400,
          { error: { type: 'invalid_request_error', message: `No such customer: '${form.customer}'` } },
        ];
      }
      const sessionId = id('cs_test');
      return [
        200,
        {
          id: sessionId,
          object: 'checkout.session',
          created,
          mode: form.mode,
          status: 'open',
          customer: form.customer,
          client_reference_id: form.client_reference_id ?? null,
          metadata: metadataOf(form),
          url: `https://checkout.stripe.com/c/pay/${sessionId}`,
          livemode: false,
        },
      ];
    }
    const cancel = /^\/v1\/subscriptions\/(sub_[A-Za-z0-9_]+)$/.exec(path);
    if (method === 'DELETE' && cancel) {
      this.canceled.push(cancel[1]);
      return [200, { id: cancel[1], object: 'subscription', status: 'canceled', canceled_at: created }];
    }
    return [
      404,
      { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } },
    ];
  }
}

function metadataOf(form: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(form)
      .filter(([k]) => k.startsWith('metadata['))
      .map(([k, v]) => [k.slice('metadata['.length, -1), v]),
  );
}
