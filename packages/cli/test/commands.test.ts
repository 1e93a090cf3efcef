import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator } from '@unifeed/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import type { DemoSummary } from '../src/demo/snapshot.js';
import { recordingIo, runCli } from './support.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('unifeed watch', () => {
  it('prints typed events as JSON lines on stdout, connection news on stderr', async () => {
    sim = await startSimulator({ venue: 'binance-spot', symbols: 3, seed: 3 });
    const r = recordingIo();
    const code = await main(
      [
        'watch',
        'btcusdt@bookTicker',
        'btcusdt@kline_1s',
        'ethusdt@depth5@100ms',
        '--venue',
        'binance-spot',
        '--url',
        sim.wsUrl,
        '--limit',
        '30',
      ],
      r.io,
    );
    expect(code).toBe(0);
    const lines = r.stdout().trim().split('\n');
    // Exactly the limit, also when the last read carried more events than were left to print.
    expect(lines).toHaveLength(30);
    const events = lines.map(
      (l) => JSON.parse(l) as { type: string; venue: string; raw?: unknown },
    );
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(['bookTicker', 'kline', 'partialDepth']),
    );
    expect(events.every((e) => e.venue === 'binance-spot' && e.raw === undefined)).toBe(true);
    expect(r.stderr()).toContain('[connection 1 spot] open');
  }, 20_000);

  it('prints exactly --limit events, also when one socket read brings more', async () => {
    sim = await startSimulator({ venue: 'binance-spot', symbols: 3, seed: 3 });
    // Five streams pushed in the same ticks: most reads carry several events. Before the fix
    // five runs printed 2, 4, 2, 5 and 1 lines.
    const streams = ['btc', 'eth', 'bnb'].map((s) => `${s}usdt@bookTicker`);
    streams.push('btcusdt@depth5@100ms', 'ethusdt@depth5@100ms');
    for (let run = 0; run < 5; run++) {
      const r = recordingIo();
      const args = ['watch', ...streams, '--venue', 'binance-spot', '--url', sim.wsUrl];
      expect(await main([...args, '--limit', '1'], r.io)).toBe(0);
      expect(r.stdout().trim().split('\n')).toHaveLength(1);
    }
  }, 30_000);

  it('on Upbit: ticker, trade, orderbook and candle streams as typed events', async () => {
    sim = await startSimulator({ venue: 'upbit', symbols: 3, seed: 3 });
    const r = recordingIo();
    const streams = ['ticker', 'trade', 'orderbook', 'candle.1m'].map((t) => `${t}:KRW-BTC`);
    const args = ['watch', ...streams, '--venue', 'upbit', '--url', sim.wsUrl, '--limit', '40'];
    expect(await main(args, r.io)).toBe(0);
    const events = r
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; venue: string; symbol: string; stream: string });
    expect(events).toHaveLength(40);
    expect(events.every((e) => e.venue === 'upbit' && e.symbol === 'KRW-BTC')).toBe(true);
    // Each stream's events come from its own feed package's Upbit parser.
    const typeOf: Record<string, string> = {
      'ticker:KRW-BTC': 'ticker',
      'trade:KRW-BTC': 'trade',
      'orderbook:KRW-BTC': 'partialDepth',
      'candle.1m:KRW-BTC': 'kline',
    };
    expect(events.filter((e) => typeOf[e.stream] !== e.type)).toEqual([]);
    expect(new Set(events.map((e) => e.stream)).size).toBe(4);
    expect(r.stderr()).toContain('open');
  }, 20_000);

  // A bad value on the command line, even when the library is the one to refuse it: usage (2).
  it("refuses another venue's stream name, before connecting: exit 2", async () => {
    for (const [stream, venue, said] of [
      ['btcusdt@bookTicker', 'upbit', /not an Upbit stream/],
      ['ticker:KRW-BTC', 'binance-spot', /not a Binance stream name/],
    ] as const) {
      const r = recordingIo();
      const args = ['watch', stream, '--venue', venue, '--url', 'ws://127.0.0.1:1'];
      expect(await main(args, r.io)).toBe(2);
      expect(r.stderr()).toMatch(said);
    }
  });

  it('refuses a stream kind it cannot parse, before connecting: exit 2', async () => {
    const r = recordingIo();
    const code = await main(['watch', 'btcusdt@nothing', '--url', 'ws://127.0.0.1:1'], r.io);
    expect(code).toBe(2);
    expect(r.stderr()).toMatch(/no stream kind|no parser/);
  });

  it('stops and exits 0 when the reader of stdout goes away, as `| head -n 1` does', async () => {
    sim = await startSimulator({ venue: 'binance-spot', symbols: 3, seed: 3 });
    let closed = false;
    const args = ['watch', 'btcusdt@bookTicker', '--venue', 'binance-spot', '--url', sim.wsUrl];
    const run = await runCli(args, {
      timeoutMs: 20_000,
      onStdout: (text, _kill, closeStdout) => {
        if (closed || !text.includes('\n')) return;
        closed = true;
        closeStdout();
      },
    });
    expect(closed).toBe(true);
    // Before the fix: "Unhandled 'error' event ... write EPIPE" and exit 1.
    expect(run.stderr).not.toMatch(/EPIPE|Unhandled 'error'/);
    expect(run.code, run.stderr).toBe(0);
  }, 30_000);

  it('stops and exits 0 when the reader of stderr goes away (book draws its views there)', async () => {
    sim = await startSimulator({ venue: 'binance-spot', symbols: 3, seed: 3 });
    let closed = false;
    const args = ['book', 'BTCUSDT', '--venue', 'binance-spot', '--url', sim.wsUrl];
    const run = await runCli([...args, '--rest-url', sim.restUrl], {
      timeoutMs: 20_000,
      onStderr: (text, closeStderr) => {
        if (closed || !text.includes('\n')) return;
        closed = true;
        closeStderr();
      },
    });
    expect(closed).toBe(true);
    expect(run.code).toBe(0);
  }, 30_000);
});

describe('demo and Ctrl-C', () => {
  /** Wait (bounded) until `done` says so, polling every 50 ms. */
  const until = async (done: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  };

  it('Ctrl-C while subscribing ends the demo at once and exits 0', async () => {
    const r = recordingIo();
    const done = main(['demo', '--fault-every', '0', '--json'], r.io);
    // Pressed as soon as the demo listens, before 3,186 streams can have delivered.
    await until(r.listening, 30_000);
    r.interrupt();
    expect(await done).toBe(0);
    const summary = JSON.parse(r.stdout().trim().split('\n').at(-1)!) as DemoSummary;
    expect(summary.klineStreamsDelivered).toBeLessThan(summary.klineStreams);
    expect(summary.faults).toEqual([]);
  }, 60_000);

  it('Ctrl-C while a fault recovers: still recovering, not lost, and exit 0', async () => {
    const r = recordingIo();
    const done = main(['demo', '--symbols', '5', '--fault-every', '1', '--json'], r.io);
    // The first fault drops a connection: its reconnect waits a back-off of a second or so.
    await until(() => /faults 0\/1 recovered/.test(r.stderr()), 30_000);
    r.interrupt();
    expect(await done).toBe(0);
    const summary = JSON.parse(r.stdout().trim().split('\n').at(-1)!) as DemoSummary;
    expect(summary.faultsLost).toBe(0);
    expect(r.stderr()).not.toContain('NOT RECOVERED');
  }, 40_000);
});

interface View {
  venue: string;
  symbol: string;
  state: string;
  bids: unknown[];
}

/** `unifeed book ... --json` until a live view (at most 15 s), then Ctrl-C: every view. */
async function bookViews(args: string[]): Promise<View[]> {
  const r = recordingIo();
  const done = main(['book', ...args, '--json', '--depth', '3'], r.io);
  const deadline = Date.now() + 15_000;
  while (!r.stdout().includes('"state":"live"') && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 50));
  }
  r.interrupt();
  expect(await done).toBe(0);
  return r
    .stdout()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as View);
}

describe('unifeed book', () => {
  it('shows the book live with its sync state', async () => {
    sim = await startSimulator({ venue: 'binance-usdm', symbols: 3, seed: 3 });
    const views = await bookViews(['BTCUSDT', '--url', sim.wsUrl]);
    expect(views[0]!.state).toBe('syncing');
    const live = views.filter((v) => v.state === 'live');
    expect(live.length).toBeGreaterThan(0);
    expect(live.every((v) => v.bids.length === 3)).toBe(true);
  }, 20_000);

  it('on Upbit: shows the book live from its snapshots', async () => {
    sim = await startSimulator({ venue: 'upbit', symbols: 3, seed: 3 });
    const views = await bookViews(['KRW-BTC', '--venue', 'upbit', '--url', sim.wsUrl]);
    const live = views.filter((v) => v.state === 'live');
    expect(live.length).toBeGreaterThan(0);
    expect(live.every((v) => v.venue === 'upbit' && v.symbol === 'KRW-BTC')).toBe(true);
    expect(live.every((v) => v.bids.length === 3)).toBe(true);
  }, 20_000);
});

describe('--metrics-port', () => {
  it('serves /metrics and a /health that reflects an injected fault', async () => {
    sim = await startSimulator({ venue: 'binance-usdm', symbols: 3, seed: 3 });
    const r = recordingIo();
    const done = main(
      ['book', 'BTCUSDT', '--url', sim.wsUrl, '--json', '--metrics-port', '0'],
      r.io,
    );
    const poll = async <T>(read: () => Promise<T> | T, ok: (v: T) => boolean): Promise<T> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const v = await read();
        if (ok(v) || Date.now() > deadline) return v;
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const base = await poll(
      () => /metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(r.stderr())?.[1],
      (u) => u !== undefined,
    );
    expect(base).toBeDefined();
    const health = async () => {
      const res = await fetch(`${base}/health`);
      return {
        code: res.status,
        report: (await res.json()) as { status: string; anomalies: { check: string }[] },
      };
    };
    await poll(() => r.stdout().includes('"state":"live"'), Boolean);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /^unifeed_book_state\{pool="binance-usdm",symbol="BTCUSDT",book="btcusdt@depth@100ms",state="live"\} 1$/m,
    );
    expect(metrics).toMatch(
      /^unifeed_pool_streams\{pool="binance-usdm",venue="binance-usdm"\} 1$/m,
    );
    expect((await health()).report.status).toBe('ok');

    expect(sim.faults.drop()).toBeGreaterThan(0);
    const hurt = await poll(health, (h) =>
      h.report.anomalies.some((a) => a.check === 'reconnects'),
    );
    expect(hurt.code).toBe(200);
    // poll gives up quietly at its deadline: the anomaly it waited for is asserted here.
    expect(hurt.report.anomalies.map((a) => a.check)).toContain('reconnects');
    expect(hurt.report.status).toBe('warning');
    r.interrupt();
    expect(await done).toBe(0);
    // the endpoint is gone with the command
    await expect(fetch(`${base}/metrics`)).rejects.toThrow();
  }, 40_000);
});

describe('unifeed sim, help and usage', () => {
  it('sim prints its URLs on stdout and stops cleanly on Ctrl-C', async () => {
    let url: string | undefined;
    // A fractional speed runs the venue slower: accepted, as the simulator takes it.
    const run = await runCli(['sim', '--symbols', '5', '--speed', '0.5'], {
      timeoutMs: 30_000,
      onStdout: (text, kill) => {
        if (url !== undefined || !text.includes('\n')) return;
        url = (JSON.parse(text.split('\n')[0]!) as { wsUrl: string }).wsUrl;
        kill('SIGINT');
      },
    });
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(run.code).toBe(0);
  }, 40_000);

  it.each([[[]], [['demo']], [['watch']], [['book']], [['sim']]])(
    '--help of %j exits 0 and documents the exit codes',
    async (args) => {
      const r = recordingIo();
      expect(await main([...args, '--help'], r.io)).toBe(0);
      expect(r.stdout()).toContain('Usage: unifeed');
      expect(r.stdout()).toContain('Exit codes:');
    },
  );

  it('a bad option or value exits 2', async () => {
    for (const args of [
      ['demo', '--bogus'],
      ['watch', 'x@bookTicker', '--venue', 'kraken'],
      ['demo', '--duration', 'soon'],
    ]) {
      const r = recordingIo();
      expect(await main(args, r.io)).toBe(2);
      expect(r.stderr()).toMatch(/error/);
    }
  });

  it('refuses an empty number, which Number() reads as 0: exit 2', async () => {
    // Before the fix `--metrics-port ""` served on a random port.
    const r = recordingIo();
    const args = ['watch', 'x@bookTicker', '--url', 'ws://127.0.0.1:1', '--duration', '1'];
    expect(await main([...args, '--metrics-port', ''], r.io)).toBe(2);
    expect(r.stderr()).toMatch(/--metrics-port .* a whole number/);
  });

  it('refuses a port above 65535 as a bad value: exit 2, not a RangeError from listen', async () => {
    const r = recordingIo();
    const args = ['watch', 'x@bookTicker', '--url', 'ws://127.0.0.1:1', '--duration', '1'];
    expect(await main([...args, '--metrics-port', '70000'], r.io)).toBe(2);
    expect(await main(['sim', '--port', '65536'], recordingIo().io)).toBe(2);
    for (const speed of ['0', '-1', 'fast', '', '1001']) {
      expect([speed, await main(['sim', '--speed', speed], recordingIo().io)]).toEqual([speed, 2]);
    }
    expect(r.stderr()).toMatch(/--metrics-port .* a whole number from 0 to 65535/);
  });

  it('a value the simulator refuses (its own error class and code) exits 2, as any bad value', async () => {
    // Before the fix: `UNIFEED_SIM_INVALID_OPTION` is no UnifeedError, so exit 1.
    for (const args of [
      ['sim', '--symbols', '20000'],
      ['demo', '--symbols', '20000', '--fault-every', '0'],
    ]) {
      const r = recordingIo();
      expect([args[0], await main(args, r.io)]).toEqual([args[0], 2]);
      expect(r.stderr()).toMatch(/error: .*symbols/);
    }
  });

  it('refuses a --duration longer than a timer can wait (2,147,483 s): exit 2', async () => {
    // Its stop is a timer, which waits at most that long: a longer one would end the command
    // sooner than asked (before the fix: at once, exit 0).
    for (const args of [
      ['watch', 'btcusdt@bookTicker', '--url', 'ws://127.0.0.1:1', '--duration', '2147484'],
      ['book', 'BTCUSDT', '--url', 'ws://127.0.0.1:1', '--json', '--duration', '2147484'],
    ]) {
      const r = recordingIo();
      expect(await main(args, r.io)).toBe(2);
      expect(r.stderr()).toMatch(/--duration .* from 1 to 2147483/);
    }
  });

  it('a value the library refuses before connecting exits 2', async () => {
    for (const [args, said] of [
      [['watch', 'btcusdt@bookTicker', '--url', 'ws://example.com'], /wss:\/\//],
      [['book', 'BTCUSDT', '--url', 'ws://127.0.0.1:1', '--depth', '2000'], /deeper than/],
    ] as const) {
      const r = recordingIo();
      expect(await main(args, r.io)).toBe(2);
      expect(r.stderr()).toMatch(said);
    }
  });
});

describe('started from another path', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('runs from a directory whose name has a space and an accent, also through a symlink', async () => {
    // Before the fix both printed nothing and exited 0: the entry check compared main.ts's
    // URL (%20, %C3%A9, the real path) with the path node was given.
    dir = mkdtempSync(join(tmpdir(), 'unifeed cli é-'));
    const copy = join(dir, 'cli');
    for (const part of ['src', 'package.json']) {
      cpSync(fileURLToPath(new URL(`../${part}`, import.meta.url)), join(copy, part), {
        recursive: true,
      });
    }
    // Packages resolve through the checkout's; 'junction' needs no privilege on Windows.
    const modules = fileURLToPath(new URL('../node_modules', import.meta.url));
    symlinkSync(modules, join(copy, 'node_modules'), 'junction');
    symlinkSync(copy, join(dir, 'linked'), 'junction');
    for (const at of [copy, join(dir, 'linked')]) {
      const run = await runCli(['--help'], { timeoutMs: 20_000, main: join(at, 'src', 'main.ts') });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('Usage: unifeed');
    }
  }, 40_000);
});
