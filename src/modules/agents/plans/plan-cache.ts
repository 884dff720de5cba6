import type { ExecutionPlan } from './execution-plan.js';

/**
 * An in-memory LRU of plans (1000 by default): a hit moves the plan to the
 * newest end, a miss is counted, the oldest plan leaves when a new one would
 * exceed the size. Plans hold template ids and placeholders, never user text.
 */
export class PlanCache {
  private readonly plans = new Map<string, ExecutionPlan>();
  hits = 0;
  misses = 0;

  constructor(readonly maxSize = 1000) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError('maxSize must be a positive integer');
  }

  get size(): number {
    return this.plans.size;
  }

  getPlan(key: string): ExecutionPlan | undefined {
    const plan = this.plans.get(key);
    if (!plan) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.plans.delete(key);
    this.plans.set(key, plan);
    return plan;
  }

  cachePlan(key: string, plan: ExecutionPlan): void {
    this.plans.delete(key);
    this.plans.set(key, plan);
    if (this.plans.size > this.maxSize) this.plans.delete(this.plans.keys().next().value!);
  }

  has(key: string): boolean {
    return this.plans.has(key);
  }

  stats(): { size: number; maxSize: number; hits: number; misses: number } {
    return { size: this.plans.size, maxSize: this.maxSize, hits: this.hits, misses: this.misses };
  }
}
