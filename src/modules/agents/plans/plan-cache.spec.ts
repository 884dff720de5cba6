import { PlanCache } from './plan-cache.js';
import type { ExecutionPlan } from './execution-plan.js';

const plan = (agent: string): ExecutionPlan => ({ agent, steps: [] });

describe('PlanCache', () => {
  it('holds 1000 plans by default', () => {
    expect(new PlanCache().maxSize).toBe(1000);
  });

  it('evicts the least recently used plan when full', () => {
    const cache = new PlanCache(3);
    cache.cachePlan('a', plan('a'));
    cache.cachePlan('b', plan('b'));
    cache.cachePlan('c', plan('c'));
    expect(cache.getPlan('a')?.agent).toBe('a'); // a is now the newest
    cache.cachePlan('d', plan('d'));
    expect(cache.has('b')).toBe(false);
    expect([...['a', 'c', 'd']].every((k) => cache.has(k))).toBe(true);
    expect(cache.size).toBe(3);
  });

  it('keeps exactly maxSize plans after many inserts, the newest ones', () => {
    const cache = new PlanCache(1000);
    for (let i = 0; i < 2500; i++) cache.cachePlan(`k${i}`, plan(`k${i}`));
    expect(cache.size).toBe(1000);
    expect(cache.has('k1499')).toBe(false);
    expect(cache.has('k1500')).toBe(true);
    expect(cache.has('k2499')).toBe(true);
  });

  it('replacing a key does not grow the cache and makes it the newest', () => {
    const cache = new PlanCache(2);
    cache.cachePlan('a', plan('a'));
    cache.cachePlan('b', plan('b'));
    cache.cachePlan('a', plan('a2'));
    cache.cachePlan('c', plan('c'));
    expect(cache.has('b')).toBe(false);
    expect(cache.getPlan('a')?.agent).toBe('a2');
  });

  it('counts hits and misses', () => {
    const cache = new PlanCache(2);
    cache.cachePlan('a', plan('a'));
    cache.getPlan('a');
    cache.getPlan('a');
    cache.getPlan('zzz');
    expect(cache.stats()).toEqual({ size: 1, maxSize: 2, hits: 2, misses: 1 });
  });

  it('refuses a size below 1', () => {
    expect(() => new PlanCache(0)).toThrow(RangeError);
  });
});
