import { createLogger } from '@unifeed/core';
import { describe, expect, it } from 'vitest';
import { SecretScan } from '../src/checks/secrets.js';

const KEY = 'my-api-key-123';
const LISTEN_KEY = 'a'.repeat(64);

describe('SecretScan', () => {
  it('passes redacted pino lines at trace', () => {
    const scan = new SecretScan([KEY]);
    const log = createLogger({ level: 'trace' }, scan);
    log.trace({ apiKey: KEY, listenKey: LISTEN_KEY }, 'connecting');
    log.info({ url: 'ws://127.0.0.1/private/ws?listenKey=[redacted]' }, 'open');
    expect(scan.lines).toBe(2);
    expect(scan.violations.count).toBe(0);
  });

  it('fails a line carrying a known secret, without quoting it', () => {
    const scan = new SecretScan([KEY]);
    const log = createLogger({ level: 'trace' }, scan);
    log.debug({ header: `X-MBX-APIKEY: ${KEY}` }, 'request');
    expect(scan.violations.count).toBe(1);
    expect(scan.violations.examples.join()).not.toContain(KEY);
  });

  it('fails a listen-key-shaped value, and rescans recent lines for a secret learned late', () => {
    const scan = new SecretScan();
    scan.write(`{"msg":"open","url":"/private/ws?listenKey=${LISTEN_KEY}"}\n`);
    expect(scan.violations.count).toBe(1);
    scan.write('{"msg":"renewed","key":"Zq9-short-key"}\n');
    scan.learn(['Zq9-short-key', LISTEN_KEY]);
    expect(scan.violations.count).toBe(2); // the first line is not counted twice
  });
});
