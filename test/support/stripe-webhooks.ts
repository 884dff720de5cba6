import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import request from 'supertest';
import { FakeStripe } from './fake-stripe.js';
import type { TestApp } from './test-app.js';

export const WEBHOOK_SECRET = 'whsec_test_adiuva';
const stripe = new Stripe('sk_test_unused');

/** The environment that points billing at the fake Stripe. */
export const stripeEnv = (fake: FakeStripe): Record<string, string> => ({
  STRIPE_SECRET_KEY: FakeStripe.SECRET_KEY,
  STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
  STRIPE_API_URL: fake.url,
});

/** Delivers a Stripe event to the app's webhook, signed as Stripe signs it. */
export function deliverStripeEvent(
  t: TestApp,
  type: string,
  object: Record<string, unknown>,
  created = Math.floor(Date.now() / 1000),
): request.Test {
  const body = JSON.stringify({
    id: `evt_${randomBytes(10).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created,
    type,
    data: { object },
    livemode: false,
  });
  return request(t.url)
    .post('/api/v1/billing/webhook')
    .set('Content-Type', 'application/json')
    .set(
      'Stripe-Signature',
      stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET }),
    )
    .send(body);
}

/**
 * The account pays a Team subscription of `seats` at Stripe (the fake holds it)
 * and the webhook told the app so; answers the Stripe subscription id.
 */
export async function subscribeToTeam(
  t: TestApp,
  fake: FakeStripe,
  userId: string,
  seats: number,
): Promise<string> {
  const subscription = fake.createSubscription({
    price: t.config.stripe.prices.team,
    quantity: seats,
    metadata: { user_id: userId, tier: 'team' },
  });
  await deliverStripeEvent(t, 'customer.subscription.updated', subscription).expect(200);
  return subscription.id as string;
}
