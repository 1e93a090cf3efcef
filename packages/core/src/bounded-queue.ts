import { ErrorCode, UnifeedError } from './errors.js';
import {
  given,
  requireInRange,
  requireObject,
  requirePositiveInteger,
  type PartialOptions,
} from './options.js';

const POLICIES = ['drop-oldest', 'drop-newest', 'conflate', 'pause', 'error'] as const;

/**
 * What happens when a frame arrives and the queue is full.
 * - `drop-oldest`: discard the oldest queued frame (freshest data wins).
 * - `drop-newest`: discard the arriving frame.
 * - `conflate`: keep only the newest frame per key (right for tickers): an arriving frame
 *   replaces a queued one with the same key at any depth, which is counted apart (`conflated`,
 *   not `dropped`: it is the policy working, not a full queue); when full, the oldest is
 *   dropped.
 * - `pause`: stop reading the socket (TCP back-pressure) once half the capacity is used, and
 *   read again when the depth falls to `lowWater`. The other half holds frames the socket had
 *   already read (a TCP chunk can carry hundreds); past the capacity they are dropped.
 * - `error`: discard the arriving frame and report `UNIFEED_QUEUE_OVERFLOW` once per episode.
 *
 * Every discarded frame is counted against its key and reported as a gap (a conflated one too:
 * a book's diff or a closed candle replaced by a newer frame is a hole all the same). When a key function
 * is given, frames without a stream (key `*`: request replies, shutdown notices) are never
 * discarded or conflated: losing a reply would cost a whole connection. A small reserve above
 * the capacity holds them while the queue is full.
 */
export type OverflowPolicy = (typeof POLICIES)[number];

/** Queue settings, as given to `UnifiedFeed`. */
export interface QueueOptions {
  /** Most frames waiting between the socket and the parsers. @default 10000 */
  capacity: number;
  /** @default 'drop-oldest' */
  overflow: OverflowPolicy;
  /** With `pause`: reading resumes once the depth falls to this. @default capacity / 4 */
  lowWater: number;
}

/** Hooks a {@link BoundedQueue} calls; all optional. */
export interface BoundedQueueHooks<T> {
  /** Cheap key of an item (the stream a raw frame belongs to). Only called for `conflate` and on drops. */
  key?: ((item: T) => string) | undefined;
  /** `pause` policy: stop reading. */
  pause?: (() => void) | undefined;
  /** `pause` policy: reading may resume. */
  resume?: (() => void) | undefined;
  /** `error` policy: an overflow episode started. */
  overflow?: ((key: string) => void) | undefined;
}

const ANY_KEY = '*';
/** Room above the capacity for frames that are never discarded. */
const RESERVE = 256;
/** Most distinct keys whose drops are counted one by one; the rest share one counter. */
const MAX_COUNTED_KEYS = 4096;
const OTHER_KEYS = '(other)';
/** Slots of a new ring; it doubles from here while frames queue up. */
const INITIAL_SLOTS = 64;

/**
 * A ring buffer with a hard bound and an explicit overflow policy. It counts every drop per
 * key; {@link BoundedQueue.takeDrops} hands the drops since the last call to the owner, who
 * announces them as gaps.
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly lowWater: number;
  readonly #hooks: BoundedQueueHooks<T>;
  /**
   * The ring. It starts small and doubles up to {@link #maxSlots} as a backlog needs it: a
   * pool has a queue per connection, and a ring of the full capacity, 10,000 slots of which
   * a healthy connection uses a few dozen, is 80 KB of old memory each.
   */
  #slots: (T | undefined)[];
  /** Key of each slot; kept only under `conflate`. */
  #slotKeys: (string | undefined)[];
  /** The capacity, plus the reserve for frames never discarded. */
  readonly #maxSlots: number;
  /** Newest queued slot per key; kept only under `conflate`. */
  readonly #slotOfKey = new Map<string, number>();
  #head = 0;
  #size = 0;
  #maxDepth = 0;
  #dropped = 0;
  #conflated = 0;
  #paused = false;
  #pauses = 0;
  #overflowing = false;
  readonly #dropsByKey = new Map<string, number>();
  #newDrops = new Map<string, number>();
  #newConflated = new Map<string, number>();

  constructor(options: PartialOptions<QueueOptions> = {}, hooks: BoundedQueueHooks<T> = {}) {
    // `null` or a number would throw a TypeError below, or read as no options.
    requireObject('`queue`', options);
    // `given`: a config's `null` is refused below, not read as the default.
    this.capacity = given(options.capacity, 10_000);
    this.overflow = given(options.overflow, 'drop-oldest');
    this.lowWater = given(options.lowWater, Math.floor(this.capacity / 4));
    requirePositiveInteger('queue.capacity', this.capacity);
    // Below 0 (or NaN) a paused socket would never be read again; at or above the half where
    // reading pauses, every frame would pause and resume it.
    if (this.overflow === 'pause') {
      requireInRange('queue.capacity', this.capacity, 2);
      requireInRange('queue.lowWater', this.lowWater, 0, (this.capacity >> 1) - 1);
    } else {
      requireInRange('queue.lowWater', this.lowWater, 0, this.capacity - 1);
    }
    if (!POLICIES.includes(this.overflow)) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `\`queue.overflow\` must be one of ${POLICIES.join(', ')}, not ${String(this.overflow)}`,
      );
    }
    if (this.overflow === 'conflate' && hooks.key === undefined) {
      // Without keys every frame is the same one: each would replace the last, answers too.
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        '`queue.overflow` conflate needs a key per frame (UnifiedFeed: `queueKey`; a pool has one)',
      );
    }
    this.#hooks = hooks;
    this.#maxSlots = this.capacity + (hooks.key ? RESERVE : 0);
    [this.#slots, this.#slotKeys] = this.#ring(Math.min(this.#maxSlots, INITIAL_SLOTS));
  }

  get length(): number {
    return this.#size;
  }

  /** Deepest the queue has been. */
  get maxDepth(): number {
    return this.#maxDepth;
  }

  /** Frames discarded since creation for want of room. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Frames replaced by a newer frame of their key under `conflate`, since creation. */
  get conflated(): number {
    return this.#conflated;
  }

  /** True while the `pause` policy holds the socket paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Times the `pause` policy paused reading. */
  get pauses(): number {
    return this.#pauses;
  }

  /** Drops per key since creation. */
  dropsByKey(): ReadonlyMap<string, number> {
    return this.#dropsByKey;
  }

  /** Drops per key since the previous call; the owner announces them as gaps. */
  takeDrops(): Map<string, number> | undefined {
    if (this.#newDrops.size === 0) return undefined;
    const drops = this.#newDrops;
    this.#newDrops = new Map();
    return drops;
  }

  /** Frames conflated per key since the previous call; announced as gaps too. */
  takeConflated(): Map<string, number> | undefined {
    if (this.#newConflated.size === 0) return undefined;
    const conflated = this.#newConflated;
    this.#newConflated = new Map();
    return conflated;
  }

  /** Add an item. Returns false when the item itself was discarded. */
  push(item: T): boolean {
    if (this.overflow === 'conflate') return this.#pushConflating(item);
    if (this.#size >= this.capacity && this.#isControl(item)) return this.#pushControl(item);
    if (this.overflow === 'pause' && !this.#paused && this.#size >= this.capacity >> 1) {
      this.#paused = true;
      this.#pauses++;
      this.#hooks.pause?.();
    }
    if (this.#size >= this.capacity) {
      switch (this.overflow) {
        case 'drop-oldest':
          if (this.#isControl(this.#slots[this.#head] as T)) {
            // the oldest must stay; the arriving frame goes instead
            this.#drop(item);
            return false;
          }
          this.#drop(this.#shiftSlot());
          break;
        case 'drop-newest':
          this.#drop(item);
          return false;
        case 'error':
          this.#drop(item);
          if (!this.#overflowing) {
            this.#overflowing = true;
            this.#hooks.overflow?.(this.#keyOf(item));
          }
          return false;
        case 'pause':
          this.#drop(item);
          return false;
      }
    }
    this.#append(item);
    return true;
  }

  /** Remove and return the oldest item. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#shiftSlot();
    if (this.#paused && this.#size <= this.lowWater) {
      this.#paused = false;
      this.#hooks.resume?.();
    }
    if (this.#overflowing && this.#size < this.capacity) this.#overflowing = false;
    return item;
  }

  /**
   * The socket a pause held back is gone (replaced after a drop): the pause ends with it,
   * without a resume to a socket that no longer exists, so that the next fill pauses the new
   * one instead of dropping frames as if it were paused.
   */
  released(): void {
    this.#paused = false;
  }

  /** The smallest `of(item)` over the queued items, undefined when empty. Walks the queue. */
  min(of: (item: T) => number): number | undefined {
    let least: number | undefined;
    for (let i = 0; i < this.#size; i++) {
      const value = of(this.#slots[(this.#head + i) % this.#slots.length] as T);
      if (least === undefined || value < least) least = value;
    }
    return least;
  }

  /**
   * Empty the queue and return how many items of each key it held, for the owner to tell as
   * the loss it is (not counted as drops: the queue did not overflow). Items of no stream
   * (answers) are not counted.
   */
  discardAll(): Map<string, number> {
    const counts = new Map<string, number>();
    while (this.#size > 0) {
      const item = this.#shiftSlot();
      if (this.#isControl(item)) continue;
      const key = this.#keyOf(item);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    this.clear();
    return counts;
  }

  /** Discard everything queued without counting drops (the owner is stopping). */
  clear(): void {
    [this.#slots, this.#slotKeys] = this.#ring(Math.min(this.#maxSlots, INITIAL_SLOTS));
    this.#slotOfKey.clear();
    this.#head = 0;
    this.#size = 0;
    if (this.#paused) {
      this.#paused = false;
      this.#hooks.resume?.();
    }
    this.#overflowing = false;
  }

  #pushConflating(item: T): boolean {
    const key = this.#keyOf(item);
    if (key === ANY_KEY && this.#hooks.key) {
      if (this.#size >= this.capacity) return this.#pushControl(item);
      this.#append(item);
      return true;
    }
    const slot = this.#slotOfKey.get(key);
    if (slot !== undefined) {
      this.#conflated++;
      this.#newConflated.set(key, (this.#newConflated.get(key) ?? 0) + 1);
      this.#slots[slot] = item;
      return true;
    }
    if (this.#size >= this.capacity) {
      if (this.#isControl(this.#slots[this.#head] as T)) {
        this.#drop(item, key);
        return false;
      }
      this.#drop(this.#shiftSlot());
    }
    const at = this.#append(item);
    this.#slotKeys[at] = key;
    this.#slotOfKey.set(key, at);
    return true;
  }

  #append(item: T): number {
    if (this.#size === this.#slots.length) this.#grow();
    const at = (this.#head + this.#size) % this.#slots.length;
    this.#slots[at] = item;
    this.#size++;
    if (this.#size > this.#maxDepth) this.#maxDepth = this.#size;
    return at;
  }

  #shiftSlot(): T {
    const at = this.#head;
    const item = this.#slots[at] as T;
    this.#slots[at] = undefined;
    if (this.overflow === 'conflate') {
      const key = this.#slotKeys[at];
      this.#slotKeys[at] = undefined;
      if (key !== undefined && this.#slotOfKey.get(key) === at) this.#slotOfKey.delete(key);
    }
    this.#size--;
    // Empty again: start over at slot 0. A ring that kept walking would write every one of its
    // thousands of long-lived slots in turn, and each write of a fresh frame into old memory is
    // one more slot the garbage collector visits at every scavenge (measured: most of each
    // pause at 50,000 msg/s); restarting keeps the written slots to the deepest backlog.
    this.#head = this.#size === 0 ? 0 : (at + 1) % this.#slots.length;
    return item;
  }

  /** An empty ring of `length` slots, and its keys under `conflate`. */
  #ring(length: number): [(T | undefined)[], (string | undefined)[]] {
    return [
      new Array<T | undefined>(length).fill(undefined),
      this.overflow === 'conflate' ? new Array<string | undefined>(length) : [],
    ];
  }

  /** Double the ring (up to the maximum), the queued items first, in order, from slot 0. */
  #grow(): void {
    const [slots, keys] = this.#ring(Math.min(this.#maxSlots, this.#slots.length * 2));
    this.#slotOfKey.clear();
    for (let i = 0; i < this.#size; i++) {
      const from = (this.#head + i) % this.#slots.length;
      slots[i] = this.#slots[from];
      if (this.overflow !== 'conflate') continue;
      const key = this.#slotKeys[from];
      keys[i] = key;
      if (key !== undefined) this.#slotOfKey.set(key, i);
    }
    this.#slots = slots;
    this.#slotKeys = keys;
    this.#head = 0;
  }

  #keyOf(item: T): string {
    return this.#hooks.key?.(item) ?? ANY_KEY;
  }

  /** A frame without a stream, when streams are known: never discarded. */
  #isControl(item: T): boolean {
    return this.#hooks.key !== undefined && this.#hooks.key(item) === ANY_KEY;
  }

  #pushControl(item: T): boolean {
    if (this.#size >= this.#maxSlots) {
      this.#drop(item, ANY_KEY);
      return false;
    }
    this.#append(item);
    return true;
  }

  #drop(item: T, key: string = this.#keyOf(item)): void {
    this.#dropped++;
    // Bounded: a server naming ever new streams must not grow this map without end.
    const counted =
      this.#dropsByKey.has(key) || this.#dropsByKey.size < MAX_COUNTED_KEYS ? key : OTHER_KEYS;
    this.#dropsByKey.set(counted, (this.#dropsByKey.get(counted) ?? 0) + 1);
    this.#newDrops.set(key, (this.#newDrops.get(key) ?? 0) + 1);
  }
}
