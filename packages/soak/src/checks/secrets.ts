import { ViolationLog } from './violations.js';

/** Log lines kept for a rescan when a secret becomes known after they were written. */
const RECENT_LINES = 2000;
/** The simulator's listen keys: 64 hex characters. A line with such a run leaks one, known or not. */
const LISTEN_KEY_SHAPE = /[0-9a-f]{64}/;
const LISTEN_KEY_RUNS = /[0-9a-f]{64}/g;

/**
 * A secret in a log line. The logger writes every line (pino at `trace`) here, into memory:
 * each is scanned for every secret known so far (API key, secret, every listen key seen) and
 * for anything shaped like a listen key. A listen key is learned a moment after it is issued,
 * so the most recent lines are rescanned when a new secret is learned. Lines are counted, and
 * only a bounded window of them is kept.
 */
export class SecretScan {
  readonly violations = new ViolationLog('a secret in a log line');
  readonly #secrets = new Set<string>();
  readonly #recent: { text: string; leaked: boolean }[] = [];
  #lines = 0;
  #bytes = 0;

  constructor(secrets: readonly string[] = []) {
    for (const s of secrets) this.#secrets.add(s);
  }

  get lines(): number {
    return this.#lines;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** A pino destination. */
  write(line: string): void {
    this.#lines++;
    this.#bytes += line.length;
    const entry = { text: line, leaked: false };
    this.#recent.push(entry);
    if (this.#recent.length > RECENT_LINES) this.#recent.shift();
    this.#scan(entry, this.#secrets);
  }

  /** Start looking for `secrets` too, in the recent lines as well. */
  learn(secrets: readonly string[]): void {
    const fresh = secrets.filter((s) => s !== '' && !this.#secrets.has(s));
    if (fresh.length === 0) return;
    for (const s of fresh) this.#secrets.add(s);
    const only = new Set(fresh);
    for (const entry of this.#recent) this.#scan(entry, only);
  }

  #scan(entry: { text: string; leaked: boolean }, secrets: ReadonlySet<string>): void {
    // One violation per line: a rescan must not count a line found before.
    if (entry.leaked) return;
    const line = entry.text;
    let found: string | undefined;
    for (const s of secrets) {
      if (line.includes(s)) {
        found = 'a known secret';
        break;
      }
    }
    if (found === undefined && LISTEN_KEY_SHAPE.test(line)) found = 'a listen-key-shaped value';
    if (found === undefined) return;
    entry.leaked = true;
    // The example never quotes a secret or the line: the report is a log too. The msg is where
    // a leak would sit (errors are logged by their message), so it is cut only once every
    // secret in it is out, lest the cut leave part of one.
    let msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? '';
    for (const s of this.#secrets) msg = msg.split(s).join('[redacted]');
    msg = msg.replace(LISTEN_KEY_RUNS, '[redacted]').slice(0, 80);
    this.violations.add(`contains ${found}: a ${line.length}-char line, msg "${msg}"`);
  }
}
