import { Injectable } from '@nestjs/common';
import type { Tx } from '../../database/unit-of-work.js';
import type { VerifiedEvent, WebhookSource } from './payments.gateway.js';

/**
 * What a handler concluded, for the event log; or that and a follow-up to run
 * after the transaction commits, for work that calls Stripe (a transaction is
 * never held open while Stripe answers). An event with a follow-up is marked
 * processed only once the follow-up succeeded: if it fails, or the process
 * stops first, Stripe delivers the event again and the handler, which finds
 * its own committed state, answers the same follow-up (which must therefore be
 * idempotent at Stripe).
 */
export type StripeEventOutcome = string | { outcome: string; followUp: () => Promise<string> };

/**
 * Applies one verified Stripe event inside the webhook's transaction (the one
 * that marks the event processed, so it is applied once) and answers what it
 * concluded, for the event log. Throwing rolls back and leaves the event
 * unprocessed: the webhook answers 5xx and Stripe delivers it again later.
 */
export type StripeEventHandler = (tx: Tx, event: VerifiedEvent) => Promise<StripeEventOutcome>;

export interface StripeHandlerOptions {
  /** Only objects whose `metadata.kind` is this (`checkout.session.completed` of a plugin purchase, not of a subscription). */
  metadataKind?: string;
  /** The endpoint whose secret verifies this event type: `platform` (default) or `connect`. */
  source?: WebhookSource;
}

/**
 * Where other modules take their share of Stripe's webhooks, so billing keeps
 * the one endpoint, its verification and its dedup by event id without
 * depending on them (they depend on billing). A handler is registered for an
 * event type and the endpoint that sends it, optionally narrowed to objects
 * whose `metadata.kind` is given. An event type registered for the Connect
 * endpoint is verified by its secret only, and every other type by the
 * platform's only; the module that knows the connected accounts says which
 * are ours.
 */
@Injectable()
export class StripeEventHandlers {
  private readonly handlers = new Map<string, StripeEventHandler>();
  private readonly sources = new Map<string, WebhookSource>();
  private connectedAccountCheck?: (accountId: string) => Promise<boolean>;

  register(type: string, handler: StripeEventHandler, options: string | StripeHandlerOptions = {}): void {
    const { metadataKind, source = 'platform' } =
      typeof options === 'string' ? { metadataKind: options } : options;
    const key = metadataKind ? `${type}#${metadataKind}` : type;
    if (this.handlers.has(key)) throw new Error(`A handler for Stripe ${key} is registered already`);
    const known = this.sources.get(type);
    if (known && known !== source)
      throw new Error(`Stripe ${type} is registered for the ${known} endpoint already`);
    this.handlers.set(key, handler);
    this.sources.set(type, source);
  }

  /** Which endpoint's secret may verify an event of this type. */
  sourceOf(type: string): WebhookSource {
    return this.sources.get(type) ?? 'platform';
  }

  /** Event types the Connect endpoint may send, for messages. */
  connectEventTypes(): string[] {
    return [...this.sources]
      .filter(([, source]) => source === 'connect')
      .map(([type]) => type)
      .sort();
  }

  /** Set by the module that records connected accounts: whether an account id is one of ours. */
  setConnectedAccountCheck(check: (accountId: string) => Promise<boolean>): void {
    this.connectedAccountCheck = check;
  }

  /** Whether a Connect event's account is one of ours (none is, until a module says which are). */
  async isKnownConnectedAccount(accountId: string): Promise<boolean> {
    return (await this.connectedAccountCheck?.(accountId)) ?? false;
  }

  /** The handler for the event: one narrowed to its object's metadata.kind first, then one for the type. */
  handlerFor(event: VerifiedEvent): StripeEventHandler | undefined {
    if (event.source !== this.sourceOf(event.type)) return undefined;
    const metadata = event.data.object.metadata;
    const kind =
      metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>).kind : undefined;
    return (
      (typeof kind === 'string' ? this.handlers.get(`${event.type}#${kind}`) : undefined) ??
      this.handlers.get(event.type)
    );
  }
}
