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
