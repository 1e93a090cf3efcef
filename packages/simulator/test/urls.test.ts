import { describe, expect, it } from 'vitest';
import { urlHost } from '../src/simulator.js';

describe('the URLs the simulator prints', () => {
  it('name loopback when it is bound to every interface: a wildcard is no host to connect to', () => {
    expect(urlHost('0.0.0.0')).toBe('127.0.0.1');
    expect(urlHost('::')).toBe('[::1]');
    expect(urlHost('127.0.0.1')).toBe('127.0.0.1');
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('192.168.1.5')).toBe('192.168.1.5');
  });
});
