import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { VerifiedEvent } from './payments.gateway.js';

/**
 * Applies one verified Stripe event inside the webhook's transaction (the one
 * that marks the event processed, so it is applied once) and answers what it
 * concluded, for the event log. Throwing rolls back and leaves the event
 * unprocessed: the webhook answers 5xx and Stripe delivers it again later.
 */
export type StripeEventHandler = (manager: EntityManager, event: VerifiedEvent) => Promise<string>;

/**
 * Where other modules take their share of Stripe's webhooks, so billing keeps
 * the one endpoint, its verification and its dedup by event id without
 * depending on them (they depend on billing). A handler is registered for an
 * event type, optionally narrowed to objects whose `metadata.kind` is given
 * (`checkout.session.completed` of a plugin purchase, not of a subscription).
 */
@Injectable()
export class StripeEventHandlers {
  private readonly handlers = new Map<string, StripeEventHandler>();

  register(type: string, handler: StripeEventHandler, metadataKind?: string): void {
    const key = metadataKind ? `${type}#${metadataKind}` : type;
    if (this.handlers.has(key)) throw new Error(`A handler for Stripe ${key} is registered already`);
    this.handlers.set(key, handler);
  }

  /** The handler for the event: one narrowed to its object's metadata.kind first, then one for the type. */
  handlerFor(event: VerifiedEvent): StripeEventHandler | undefined {
    const metadata = event.data.object.metadata;
    const kind =
      metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>).kind : undefined;
    return (
      (typeof kind === 'string' ? this.handlers.get(`${event.type}#${kind}`) : undefined) ??
      this.handlers.get(event.type)
    );
  }
}
