import { describe, expect, it } from 'vitest';
import { SilenceCheck } from '../src/checks/silence.js';

describe('SilenceCheck', () => {
  it('passes when every stream delivered since the faults ended', () => {
    const c = new SilenceCheck();
    c.delivered('a@kline_1m', 1000);
    c.delivered('b@kline_1m', 1500);
    c.delivered('a@kline_1m', 5000);
    c.delivered('b@kline_1m', 5200);
    expect(c.silentSince(4000)).toEqual([]);
    c.finish(4000, 6000);
    expect(c.violations.count).toBe(0);
    expect(c.streams).toBe(2);
  });

  it('fails each stream whose last delivery came before the faults ended', () => {
    const c = new SilenceCheck();
    c.delivered('a@kline_1m', 1000);
    c.delivered('b@kline_1m', 1000);
    c.delivered('c@kline_1m', 1000);
    c.delivered('b@kline_1m', 4000); // delivered exactly at the end of the faults: alive
    expect(c.silentSince(4000)).toEqual(['a@kline_1m', 'c@kline_1m']);
    c.finish(4000, 9000);
    expect(c.violations.count).toBe(2);
    expect(c.violations.examples[0]).toBe(
      'a@kline_1m: silent for 8.0 s, none since the faults ended',
    );
  });

  it('lets off an excused stream, with its reason, and only a stream it has seen', () => {
    const c = new SilenceCheck();
    c.delivered('user-data', 1000);
    c.delivered('a@kline_1m', 1000);
    c.excuse('user-data', 'REST banned for 290 s: its listen-key POST waits');
    c.excuse('never-seen', 'no reason');
    expect(c.silentSince(4000)).toEqual(['a@kline_1m']);
    c.finish(4000, 9000);
    expect(c.violations.count).toBe(1);
    expect([...c.excused.keys()]).toEqual(['user-data']);
  });
});
