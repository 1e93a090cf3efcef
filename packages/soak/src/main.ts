import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SoakError, SoakErrorCode } from './errors.js';
import { planFaults } from './fault-plan.js';
import { formatReport } from './report.js';
import { runSoak } from './soak.js';

const USAGE = `usage: pnpm soak [--minutes N] [--seed S] [--report path.json] [--symbols N] [--plan]
  --minutes  length of the measured run (default 2)
  --seed     seeds the fault plan, the market and the pool's jitter (default 1)
  --report   also write the report as JSON there
  --symbols  kline symbols, x 6 intervals (default 531: the demo's 3,186 streams)
  --plan     print the fault plan of this seed and duration, and exit
Exit codes: 0 every invariant counter is zero, 1 some is not (or the run failed), 2 usage.`;

function number(name: string, raw: string | undefined, fallback: number, integer: boolean): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isSafeInteger(v))) {
    throw new SoakError(
      SoakErrorCode.InvalidOption,
      `--${name} must be a positive ${integer ? 'integer' : 'number'}`,
    );
  }
  return v;
}

async function main(argv: string[]): Promise<number> {
  let minutes: number;
  let seed: number;
  let symbols: number;
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        minutes: { type: 'string' },
        seed: { type: 'string' },
        report: { type: 'string' },
        symbols: { type: 'string' },
        plan: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }).values;
    if (values.help === true) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    minutes = number('minutes', values.minutes as string | undefined, 2, false);
    seed = number('seed', values.seed as string | undefined, 1, true);
    symbols = number('symbols', values.symbols as string | undefined, 531, true);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.plan === true) {
    for (const f of planFaults({ seed, durationMs: minutes * 60_000 })) {
      process.stdout.write(
        `${(f.atMs / 1000).toFixed(1).padStart(7)} s  ${f.kind}${f.target ? ` on ${f.target}` : ''}  pick ${f.pick.toFixed(3)}\n`,
      );
    }
    return 0;
  }
  const report = await runSoak({
    minutes,
    seed,
    symbols,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(formatReport(report));
  const path = values.report as string | undefined;
  if (path !== undefined) await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return report.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    if (e.code === SoakErrorCode.InvalidOption) {
      // An argument out of range (`--minutes 1e9`): usage, as for any bad argument.
      process.stderr.write(`${e.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`soak failed: ${e.code ?? ''} ${e.message ?? String(err)}\n`);
    process.exit(1);
  },
);
