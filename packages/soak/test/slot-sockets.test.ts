import { describe, expect, it } from 'vitest';
import { SlotSocketCheck } from '../src/checks/slot-sockets.js';

describe('SlotSocketCheck', () => {
  it('passes while every slot has had at most one socket at a time', () => {
    const c = new SlotSocketCheck();
    c.observe({
      '/market/stream?slot=1.1': { open: 1, highWater: 1 },
      '/private/ws': { open: 0, highWater: 1 },
    });
    c.observe({ '/market/stream?slot=1.1': { open: 1, highWater: 1 } });
    expect(c.violations.count).toBe(0);
    expect(c.slots).toBe(2);
  });

  it('fails once per slot that ever held two live sockets', () => {
    const c = new SlotSocketCheck();
    const leaked = { '/market/stream?slot=1.3': { open: 1, highWater: 2 } };
    c.observe(leaked);
    c.observe(leaked);
    c.observe({ ...leaked, '/public/stream?slot=1.4': { open: 3, highWater: 3 } });
    expect(c.violations.count).toBe(2);
    expect(c.violations.examples[0]).toContain('slot=1.3');
  });
});
