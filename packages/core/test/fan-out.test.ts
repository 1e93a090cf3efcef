import { describe, expect, it } from 'vitest';
import { FanOut, type Sink } from '../src/fan-out.js';

/** A sink that writes what it hears into `log`, and may act on a value. */
function recorder(name: string, log: string[], onNext?: (v: number) => void): Sink<number> {
  return {
    next: (v) => {
      log.push(`${name}:${v}`);
      onNext?.(v);
    },
    error: (err) => log.push(`${name}:error:${String(err)}`),
    complete: () => log.push(`${name}:complete`),
  };
}

describe('FanOut', () => {
  it('delivers each value to every sink, in the order they were added, each once', () => {
    const log: string[] = [];
    const out = new FanOut<number>();
    const a = recorder('a', log);
    out.add(a);
    out.add(recorder('b', log));
    out.add(a); // already there
    expect(out.size).toBe(2);
    out.next(1);
    expect(log).toEqual(['a:1', 'b:1']);
    expect(out.delete(a)).toBe(true);
    expect(out.delete(a)).toBe(false);
    out.next(2);
    expect(log).toEqual(['a:1', 'b:1', 'b:2']);
  });

  it('applies a change made during a delivery from the next value on', () => {
    const log: string[] = [];
    const out = new FanOut<number>();
    const c = recorder('c', log);
    const b = recorder('b', log);
    out.add(
      recorder('a', log, () => {
        out.delete(b);
        out.add(c);
      }),
    );
    out.add(b);
    out.next(1);
    expect(log).toEqual(['a:1', 'b:1']);
    out.next(2);
    expect(log).toEqual(['a:1', 'b:1', 'a:2', 'c:2']);
  });

  it('ends exactly the sinks present when an error or completion began', () => {
    const log: string[] = [];
    const out = new FanOut<number>();
    const b = recorder('b', log);
    out.add({ ...recorder('a', log), error: () => (log.push('a:error'), out.delete(b)) });
    out.add(b);
    out.error('boom');
    expect(log).toEqual(['a:error', 'b:error:boom']);
    out.complete();
    expect(log.slice(2)).toEqual(['a:complete']);
  });
});
