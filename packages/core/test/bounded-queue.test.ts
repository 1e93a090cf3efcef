import { describe, expect, it, vi } from 'vitest';
import { BoundedQueue } from '../src/bounded-queue.js';
import { ErrorCode } from '../src/errors.js';

const key = (s: string) => s.split(':')[0]!;
const drain = (q: BoundedQueue<string>) => {
  const out: string[] = [];
  for (let s = q.shift(); s !== undefined; s = q.shift()) out.push(s);
  return out;
};

describe('BoundedQueue', () => {
  it('defaults to 10,000 frames, drop-oldest', () => {
    const q = new BoundedQueue<number>();
    expect(q.capacity).toBe(10_000);
    expect(q.overflow).toBe('drop-oldest');
    for (let i = 0; i < 10_005; i++) q.push(i);
    expect(q.length).toBe(10_000);
    expect(q.dropped).toBe(5);
    expect(q.shift()).toBe(5);
  });

  it('grows its ring as a backlog needs it, keeping the order across the wrap', () => {
    const q = new BoundedQueue<number>({ capacity: 1000 });
    let next = 0;
    let expected = 0;
    // Move the head off slot 0 so that the first growth finds the ring wrapped.
    for (let i = 0; i < 60; i++) q.push(next++);
    for (let i = 0; i < 30; i++) expect(q.shift()).toBe(expected++);
    for (let i = 0; i < 900; i++) q.push(next++);
    expect(q.length).toBe(930);
    for (let i = 0; i < 400; i++) expect(q.shift()).toBe(expected++);
    for (let i = 0; i < 600; i++) q.push(next++); // past the capacity: the oldest go
    expect(q.length).toBe(1000);
    expect(q.dropped).toBe(130);
    expected += 130;
    for (let s = q.shift(); s !== undefined; s = q.shift()) expect(s).toBe(expected++);
    expect(expected).toBe(next);
  });

  it('reads a null capacity, policy or low-water mark as a mistake, not as the default', () => {
    for (const options of [{ capacity: null }, { overflow: null }, { lowWater: null }]) {
      expect(() => new BoundedQueue(options as never, { key })).toThrow(
        expect.objectContaining({ code: 'UNIFEED_INVALID_OPTION' }),
      );
    }
  });

  it('conflates by key across a growth of the ring', () => {
    const q = new BoundedQueue<string>({ capacity: 500, overflow: 'conflate' }, { key });
    q.push('x:0');
    q.shift(); // the head moves on
    for (let i = 0; i < 200; i++) q.push(`k${i}:1`);
    q.push('k7:2');
    q.push('k150:2');
    const out = drain(q);
    expect(out).toHaveLength(200);
    expect(out[7]).toBe('k7:2');
    expect(out[150]).toBe('k150:2');
    expect(out[199]).toBe('k199:1');
    expect(Object.fromEntries(q.takeConflated()!)).toEqual({ k7: 1, k150: 1 });
  });

  it('drop-oldest keeps the newest and counts drops per key', () => {
    const q = new BoundedQueue<string>({ capacity: 3, overflow: 'drop-oldest' }, { key });
    for (const s of ['a:1', 'b:1', 'a:2', 'b:2', 'a:3']) q.push(s);
    expect(drain(q)).toEqual(['a:2', 'b:2', 'a:3']);
    expect(Object.fromEntries(q.dropsByKey())).toEqual({ a: 1, b: 1 });
    expect(Object.fromEntries(q.takeDrops()!)).toEqual({ a: 1, b: 1 });
    expect(q.takeDrops()).toBeUndefined();
  });

  it('drop-newest refuses the arriving frame', () => {
    const q = new BoundedQueue<string>({ capacity: 2, overflow: 'drop-newest' }, { key });
    expect(q.push('a:1')).toBe(true);
    expect(q.push('a:2')).toBe(true);
    expect(q.push('b:1')).toBe(false);
    expect(drain(q)).toEqual(['a:1', 'a:2']);
    expect(Object.fromEntries(q.dropsByKey())).toEqual({ b: 1 });
  });

  it('conflate keeps only the newest frame per key', () => {
    const q = new BoundedQueue<string>({ capacity: 3, overflow: 'conflate' }, { key });
    for (const s of ['a:1', 'b:1', 'a:2', 'a:3', 'c:1', 'b:2']) q.push(s);
    expect(drain(q)).toEqual(['a:3', 'b:2', 'c:1']);
    // Replaced by a newer frame of their key: the policy working, not a full queue's drop.
    expect([q.conflated, q.dropped]).toEqual([3, 0]);
    expect(Object.fromEntries(q.takeConflated()!)).toEqual({ a: 2, b: 1 });
    expect([q.takeConflated(), q.takeDrops()]).toEqual([undefined, undefined]);
    // when full of distinct keys the oldest goes: a drop
    for (const s of ['a:1', 'b:1', 'c:1', 'd:1']) q.push(s);
    expect(drain(q)).toEqual(['b:1', 'c:1', 'd:1']);
    expect([q.conflated, q.dropped]).toEqual([3, 1]);
    expect(Object.fromEntries(q.dropsByKey())).toEqual({ a: 1 });
    // a key whose frame was shifted out gets a fresh slot
    q.push('a:9');
    expect(drain(q)).toEqual(['a:9']);
  });

  it('pause stops reading at half capacity, resumes at low water, never exceeds capacity', () => {
    const pause = vi.fn();
    const resume = vi.fn();
    const q = new BoundedQueue<number>({ capacity: 8, overflow: 'pause' }, { pause, resume });
    for (let i = 0; i < 4; i++) q.push(i);
    expect(pause).not.toHaveBeenCalled();
    q.push(4);
    expect(pause).toHaveBeenCalledTimes(1);
    expect(q.paused).toBe(true);
    // frames the socket had already read still fit, up to the capacity
    for (let i = 5; i < 20; i++) q.push(i);
    expect(pause).toHaveBeenCalledTimes(1);
    expect(q.length).toBe(8);
    expect(q.dropped).toBe(12);
    for (let i = 0; i < 5; i++) q.shift();
    expect(resume).not.toHaveBeenCalled();
    q.shift();
    expect(resume).toHaveBeenCalledTimes(1);
    expect(q.paused).toBe(false);
    expect(q.pauses).toBe(1);
  });

  it('error refuses the frame and reports once per overflow episode', () => {
    const overflow = vi.fn();
    const q = new BoundedQueue<string>({ capacity: 2, overflow: 'error' }, { key, overflow });
    q.push('a:1');
    q.push('a:2');
    q.push('b:1');
    q.push('b:2');
    expect(overflow).toHaveBeenCalledTimes(1);
    expect(overflow).toHaveBeenCalledWith('b');
    q.shift();
    q.push('c:1');
    q.push('c:2');
    expect(overflow).toHaveBeenCalledTimes(2);
    expect(q.dropped).toBe(3);
  });

  it('tracks max depth and clears without counting drops', () => {
    const q = new BoundedQueue<number>({ capacity: 10 });
    for (let i = 0; i < 7; i++) q.push(i);
    q.shift();
    q.clear();
    expect(q.length).toBe(0);
    expect(q.maxDepth).toBe(7);
    expect(q.dropped).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('refuses a capacity that is not a positive integer, with UNIFEED_INVALID_OPTION', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      expect(() => new BoundedQueue({ capacity })).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidOption }),
      );
    }
  });
});

describe('BoundedQueue with stream keys: frames without a stream are never discarded', () => {
  const keyOf = (s: string) => (s.startsWith('reply') ? '*' : s.split(':')[0]!);

  it('drop-oldest keeps a reply at the head and takes a reply when full', () => {
    const q = new BoundedQueue<string>({ capacity: 2, overflow: 'drop-oldest' }, { key: keyOf });
    q.push('reply1');
    q.push('a:1');
    expect(q.push('a:2')).toBe(false); // the reply at the head stays
    expect(q.push('reply2')).toBe(true); // into the reserve
    expect(drain(q)).toEqual(['reply1', 'a:1', 'reply2']);
    expect(Object.fromEntries(q.dropsByKey())).toEqual({ a: 1 });
  });

  it('conflate never merges replies', () => {
    const q = new BoundedQueue<string>({ capacity: 3, overflow: 'conflate' }, { key: keyOf });
    for (const s of ['reply1', 'a:1', 'reply2', 'a:2', 'reply3']) q.push(s);
    expect(drain(q)).toEqual(['reply1', 'a:2', 'reply2', 'reply3']);
  });

  it('the reserve is bounded too', () => {
    const q = new BoundedQueue<string>({ capacity: 1, overflow: 'drop-newest' }, { key: keyOf });
    let accepted = 0;
    for (let i = 0; i < 1000; i++) if (q.push(`reply${i}`)) accepted++;
    expect(accepted).toBe(257);
    expect(q.length).toBe(257);
  });

  it('counts drops for at most 4,096 keys one by one', () => {
    const q = new BoundedQueue<string>({ capacity: 1, overflow: 'drop-newest' }, { key: keyOf });
    q.push('x:0');
    for (let i = 0; i < 5000; i++) q.push(`k${i}:1`);
    expect(q.dropsByKey().size).toBe(4097);
    expect(q.dropsByKey().get('(other)')).toBe(5000 - 4096);
    expect(q.dropped).toBe(5000);
  });
});
