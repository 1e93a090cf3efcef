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

// Found by mutation: the only failing case grew by 8 against a bound of 2; twice the bound, or
// `>=` for `>`, passed unseen.
describe('GrowthCheck: the bound is exact', () => {
  it('passes growth equal to the bound and fails one more', () => {
    const at = (g: GrowthCheck, last: number): void => {
      for (let i = 0; i < 50; i++) g.add({ sockets: i < 25 ? 10 : last });
      g.finish();
    };
    const equal = new GrowthCheck({ sockets: 2 });
    at(equal, 12);
    expect(equal.violations.count).toBe(0);
    const over = new GrowthCheck({ sockets: 2 });
    at(over, 13);
    expect(over.violations.count).toBe(1);
  });
});
