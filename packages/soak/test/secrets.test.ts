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

  it('never quotes the secret it found in a msg, nor a listen key, even cut short', () => {
    const scan = new SecretScan([KEY]);
    scan.write(`{"msg":"POST /x answered 400: -1 bad key ${KEY}"}\n`);
    scan.write(`{"msg":"${'x'.repeat(50)} ${LISTEN_KEY}"}\n`);
    scan.write('{"msg":"late \\"Zq9-short-key\\" here"}\n');
    scan.learn(['Zq9-short-key']);
    expect(scan.violations.count).toBe(3);
    const examples = scan.violations.examples.join('\n');
    expect(examples).not.toContain(KEY);
    expect(examples).not.toMatch(/a{20}/);
    expect(examples).not.toContain('Zq9');
    expect(examples).toContain('bad key [redacted]');
  });
});
