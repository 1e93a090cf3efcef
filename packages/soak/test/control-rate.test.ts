import { describe, expect, it } from 'vitest';
import { ControlRateCheck } from '../src/checks/control-rate.js';

describe('ControlRateCheck', () => {
  it('passes while the server closed nothing for too many requests', () => {
    const c = new ControlRateCheck();
    c.observe(0);
    c.observe(0);
    expect(c.violations.count).toBe(0);
  });

  it('fails for every 1008 close the server counts', () => {
    const c = new ControlRateCheck();
    c.observe(1);
    c.observe(1);
    c.observe(3);
    expect(c.violations.count).toBe(3);
  });
});

// Found by mutation: the only counting test went 1, 1, 3; a check that ignored the first
// 1008 close still failed it, and a run with exactly one such close would have passed.
describe('ControlRateCheck: a single close', () => {
  it('fails on the first and only 1008 close, with no later one to reveal it', () => {
    const c = new ControlRateCheck();
    c.observe(0);
    c.observe(1);
    c.observe(1);
    expect(c.violations.count).toBe(1);
  });
});
