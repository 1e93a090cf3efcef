import { describe, expect, it } from 'vitest';
import { GrowthCheck } from '../src/checks/growth.js';

describe('GrowthCheck', () => {
  it('passes flat resources, a transient spike included', () => {
    const g = new GrowthCheck({ sockets: 2 });
    for (let i = 0; i < 50; i++) g.add({ sockets: i === 45 ? 30 : 17 });
    const [r] = g.finish();
    expect(r).toMatchObject({ first: 17, last: 17, growth: 0 });
    expect(g.violations.count).toBe(0);
  });

  it('fails a resource that grows beyond its bound, reports one without a bound', () => {
    const g = new GrowthCheck({ sockets: 2 });
    for (let i = 0; i < 50; i++) g.add({ sockets: 17 + Math.floor(i / 5), other: i });
    const results = g.finish();
    expect(results.find((r) => r.resource === 'sockets')?.growth).toBeGreaterThan(2);
    expect(results.find((r) => r.resource === 'other')?.bound).toBe(Infinity);
    expect(g.violations.count).toBe(1);
  });

  it('fails when too few samples were taken to judge', () => {
    const g = new GrowthCheck({});
    g.add({ sockets: 1 });
    g.finish();
    expect(g.violations.count).toBe(1);
  });

  it('keeps a bounded number of samples, evenly thinned', () => {
    const g = new GrowthCheck({ x: 0 }, 100);
    for (let i = 0; i < 1000; i++) g.add({ x: i < 500 ? 0 : 1 });
    expect(g.samples.length).toBeLessThanOrEqual(100);
    g.finish();
    expect(g.violations.count).toBe(1);
  });
});
