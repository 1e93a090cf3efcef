import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger, ErrorCode, isCodedError, MAX_TIMER_MS } from '@unifeed/core';
import { SimulatorErrorCode } from '@unifeed/simulator';
import { Command, CommanderError, Option } from 'commander';
import { bookCommand } from './commands/book.js';
import { demoCommand } from './commands/demo.js';
import { simCommand } from './commands/sim.js';
import { watchCommand } from './commands/watch.js';
import { ExitCode } from './exit-codes.js';
import { processIo, type Io } from './io.js';
import { parseVenue, positiveNumber, VENUES, wholeNumber, type VenueName } from './venue-option.js';

/**
 * The largest `--duration` of `watch` and `book`: their stop is a timer, which waits at most
 * this long (a longer one would end the command sooner than asked).
 */
const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);
/** A port above this makes `listen` throw a RangeError (exit 1): a bad value, so exit 2. */
const MAX_PORT = 65_535;
/** Fastest the standalone simulator runs: a 2 s kline every 2 ms. */
const MAX_SPEED = 1000;

/**
 * What the library refuses before anything reaches the network: a bad value on the command
 * line (a stream the venue lacks, plain ws:// to a remote host, a depth past the snapshot's,
 * more symbols than the simulator makes), so a usage error like commander's own, not a failure
 * of the run. Codes of any package: each throws its own error class, all of them `CodedError`s.
 */
const REFUSED_VALUES: ReadonlySet<string> = new Set([
  ErrorCode.InvalidOption,
  ErrorCode.InsecureUrl,
  ErrorCode.InvalidStream,
  SimulatorErrorCode.InvalidOption,
]);

const EXIT_CODES = `
Exit codes:
  0  done: the duration ran out, Ctrl-C, or the command finished
  1  failure: an error, or a fault the demo injected was not recovered
  2  usage: an unknown option or a bad value`;

const venueOption = () =>
  new Option('--venue <venue>', 'exchange dialect')
    .choices(VENUES as VenueName[])
    .default('binance-usdm')
    .argParser(parseVenue);
const urlOption = () =>
  new Option(
    '--url <ws-url>',
    'WebSocket base URL (a simulator, testnet or proxy) instead of the exchange',
  );
const restUrlOption = () =>
  new Option('--rest-url <url>', 'REST base URL; defaults to --url over http(s)');
const metricsPortOption = () =>
  new Option(
    '--metrics-port <port>',
    'serve Prometheus /metrics and the /health report on this port (0: any free one)',
  ).argParser(wholeNumber(0, MAX_PORT));
const metricsHostOption = () =>
  new Option('--metrics-host <host>', 'interface the metrics endpoint binds').default('127.0.0.1');
const logLevelOption = () =>
  new Option('--log-level <level>', 'log level on stderr')
    .choices(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
    .default('warn');

/** The `unifeed` program. Returns the exit code instead of exiting, so tests can run it. */
export function program(io: Io, done: (code: Promise<ExitCode>) => void): Command {
  const cli = new Command('unifeed')
    .description(
      'Crypto-exchange market data and account streams that reconnect, resync and report their own health.',
    )
    .addHelpText('after', EXIT_CODES)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  cli
    .command('demo')
    .description(
      'the embedded simulator and the seeds scenario: 531 symbols x 6 kline intervals, 50 book tickers, 5 order books, the futures user-data stream, a live dashboard, a fault every 20 s',
    )
    .addOption(
      new Option('--duration <seconds>', 'stop after this long and print a summary').argParser(
        wholeNumber(1),
      ),
    )
    .addOption(
      new Option('--fault-every <seconds>', 'seconds between injected faults (0: none)')
        .default(20)
        .argParser(wholeNumber(0)),
    )
    .addOption(
      new Option('--symbols <n>', 'symbols of the kline fan-in')
        .default(531)
        .argParser(wholeNumber(5)),
    )
    .addOption(
      new Option('--recovery-timeout <seconds>', 'a fault not recovered by then counts as lost')
        .default(60)
        .argParser(wholeNumber(1)),
    )
    .option('--json', 'print the closing summary as one JSON line on stdout', false)
    .addOption(metricsPortOption())
    .addOption(metricsHostOption())
    .addOption(logLevelOption())
    .addHelpText('after', EXIT_CODES)
    .action(
      (o: {
        duration?: number;
        faultEvery: number;
        symbols: number;
        recoveryTimeout: number;
        json: boolean;
        logLevel: string;
        metricsPort?: number;
        metricsHost: string;
      }) => {
        done(
          demoCommand(
            {
              duration: o.duration,
              faultEvery: o.faultEvery,
              symbols: o.symbols,
              recoveryTimeout: o.recoveryTimeout,
              json: o.json,
              metricsPort: o.metricsPort,
              metricsHost: o.metricsHost,
              logger: createLogger({ level: o.logLevel }, { write: (l: string) => io.err(l) }),
            },
            io,
          ),
        );
      },
    );

  cli
    .command('watch')
    .description(
      'typed events of Binance or Upbit streams as JSON lines on stdout (logs on stderr), e.g. btcusdt@bookTicker btcusdt@kline_1m, or ticker:KRW-BTC with --venue upbit',
    )
    .argument('<stream...>', 'stream names as the venue writes them')
    .addOption(venueOption())
    .addOption(urlOption())
    .addOption(restUrlOption())
    .addOption(new Option('--limit <n>', 'stop after n events').argParser(wholeNumber(1)))
    .addOption(
      new Option('--duration <seconds>', 'stop after this long').argParser(
        wholeNumber(1, MAX_TIMER_SECONDS),
      ),
    )
    .option('--raw', "keep each event's raw payload", false)
    .addOption(metricsPortOption())
    .addOption(metricsHostOption())
    .addOption(logLevelOption())
    .addHelpText('after', EXIT_CODES)
    .action(
      (
        streams: string[],
        o: {
          venue: VenueName;
          url?: string;
          restUrl?: string;
          limit?: number;
          duration?: number;
          raw: boolean;
          logLevel: string;
          metricsPort?: number;
          metricsHost: string;
        },
      ) => {
        done(watchCommand(streams, o, io));
      },
    );

  cli
    .command('book')
    .description('a live top-of-book view of one symbol with its sync state')
    .argument('<symbol>', 'e.g. BTCUSDT, or KRW-BTC with --venue upbit')
    .addOption(venueOption())
    .addOption(urlOption())
    .addOption(restUrlOption())
    .addOption(new Option('--depth <n>', 'levels a side').default(10).argParser(wholeNumber(1)))
    .addOption(
      new Option('--duration <seconds>', 'stop after this long').argParser(
        wholeNumber(1, MAX_TIMER_SECONDS),
      ),
    )
    .option('--json', 'views as JSON lines on stdout instead of a redrawn view', false)
    .addOption(metricsPortOption())
    .addOption(metricsHostOption())
    .addOption(logLevelOption())
    .addHelpText('after', EXIT_CODES)
    .action(
      (
        symbol: string,
        o: {
          venue: VenueName;
          url?: string;
          restUrl?: string;
          depth: number;
          duration?: number;
          json: boolean;
          logLevel: string;
          metricsPort?: number;
          metricsHost: string;
        },
      ) => {
        done(bookCommand(symbol, o, io));
      },
    );

  cli
    .command('sim')
    .description('the simulator on its own; prints its URLs as JSON on stdout, runs until Ctrl-C')
    .addOption(
      new Option('--port <port>', 'TCP port (0: any free one)')
        .default(0)
        .argParser(wholeNumber(0, MAX_PORT)),
    )
    .addOption(new Option('--host <host>', 'interface to bind').default('127.0.0.1'))
    .addOption(venueOption())
    .addOption(new Option('--symbols <n>', 'symbols').default(531).argParser(wholeNumber(1)))
    .addOption(
      new Option('--seed <n>', 'one seed, one market').default(1).argParser(wholeNumber(0)),
    )
    .addOption(
      // 0.5 runs the venue at half its cadence; 1000 pushes a 2 s kline every 2 ms.
      new Option('--speed <n>', 'cadence multiplier (0.5: half speed)')
        .default(1)
        .argParser(positiveNumber(MAX_SPEED)),
    )
    .addHelpText('after', EXIT_CODES)
    .action(
      (o: {
        port: number;
        host: string;
        venue: VenueName;
        symbols: number;
        seed: number;
        speed: number;
      }) => {
        done(simCommand(o, io));
      },
    );

  return cli;
}

/** Run `unifeed` with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<ExitCode> {
  let running: Promise<ExitCode> | undefined;
  const cli = program(io, (p) => (running = p));
  try {
    await cli.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors.
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    throw err;
  }
  if (running === undefined) {
    cli.outputHelp();
    return ExitCode.Usage;
  }
  try {
    return await running;
  } catch (err) {
    io.err(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return isCodedError(err) && REFUSED_VALUES.has(err.code) ? ExitCode.Usage : ExitCode.Failure;
  }
}

/**
 * True when node was started with this file. Compared as real paths: the script's path may
 * come through a symlink, and a URL escapes what a path keeps as is (a space, an accent, a
 * Windows drive), so neither spelling equals the other.
 */
function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    // A script path that is no file (node resolved it by adding an extension) is not this one.
    return false;
  }
}

// Run when executed directly (tsx from a checkout); the built bin imports `main` instead.
if (isEntry()) {
  process.exitCode = await main(process.argv.slice(2));
}
