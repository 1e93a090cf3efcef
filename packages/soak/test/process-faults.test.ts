import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ProcessFaultCheck, type ProcessEvents } from '../src/checks/process-faults.js';

describe('ProcessFaultCheck', () => {
  it('counts unhandled rejections and uncaught exceptions while attached, only then', () => {
    const fake = new EventEmitter();
    const c = new ProcessFaultCheck(fake as unknown as ProcessEvents);
    fake.emit('unhandledRejection', new Error('before'));
    c.attach();
    c.attach(); // idempotent: one listener each
    expect(fake.listenerCount('unhandledRejection')).toBe(1);
    fake.emit('unhandledRejection', new Error('lost promise'));
    fake.emit('uncaughtException', new TypeError('boom'));
    c.detach();
    fake.emit('uncaughtException', new Error('after'));
    expect(c.violations.count).toBe(2);
    expect(c.violations.examples).toEqual([
      'rejection Error: lost promise',
      'exception TypeError: boom',
    ]);
    expect(fake.listenerCount('uncaughtException')).toBe(0);
  });
});
