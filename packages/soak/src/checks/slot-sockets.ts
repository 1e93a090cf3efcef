import { ViolationLog } from './violations.js';

/** Open sockets of one slot now, and the most ever open at once (the simulator's `bySlot`). */
export interface SlotCount {
  open: number;
  highWater: number;
}

/**
 * Two live sockets for one connection slot. The simulator keys slots by path plus the pool's
 * `slotParam` value and keeps each slot's high-water mark at accept time, so even a duplicate
 * that lived for a millisecond between two samples is counted: a slot whose high-water mark
 * ever exceeds one is a violation, once per slot.
 */
export class SlotSocketCheck {
  readonly violations = new ViolationLog('two live sockets for one connection slot');
  readonly #reported = new Set<string>();
  #slots = 0;

  /** Slots seen so far. */
  get slots(): number {
    return this.#slots;
  }

  observe(bySlot: Readonly<Record<string, SlotCount>>): void {
    const entries = Object.entries(bySlot);
    this.#slots = Math.max(this.#slots, entries.length);
    for (const [slot, count] of entries) {
      if (count.highWater <= 1 || this.#reported.has(slot)) continue;
      this.#reported.add(slot);
      this.violations.add(`${slot}: ${count.highWater} sockets at once`);
    }
  }
}
