import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import type { AppConfig } from '../../config/app-config.js';
import { AppMetrics } from './app-metrics.js';
import { observePool } from './backing-metrics.js';

describe('the Grafana dashboard (ops/grafana/adiuva-dashboard.json)', () => {
  it('queries only metrics the app exports', () => {
    const metrics = new AppMetrics({ metrics: { enabled: false } } as AppConfig);
    observePool({ on: () => undefined } as unknown as Pool, metrics);
    const exported = new Set(
      metrics.registry
        .getMetricsAsArray()
        .flatMap((m) =>
          String(m.type) === 'histogram'
            ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
            : [m.name],
        ),
    );
    const dashboard = readFileSync('ops/grafana/adiuva-dashboard.json', 'utf8');
    const used = new Set([...dashboard.matchAll(/\b(adiuva_[a-z0-9_]+)/g)].map((m) => m[1]));
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });
});
