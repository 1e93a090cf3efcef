import { startSimulator } from '@unifeed/simulator';
import { ExitCode } from '../exit-codes.js';
import type { VenueName } from '../venue-option.js';
import { untilInterrupted, type Io } from '../io.js';

export interface SimOptions {
  port: number;
  host: string;
  venue: VenueName;
  symbols: number;
  seed: number;
  speed: number;
}

/** The simulator on its own: print its URLs, run until Ctrl-C. */
export async function simCommand(o: SimOptions, io: Io): Promise<ExitCode> {
  const sim = await startSimulator({
    port: o.port,
    host: o.host,
    venue: o.venue,
    symbols: o.symbols,
    seed: o.seed,
    speed: o.speed,
  });
  // Listen for Ctrl-C before printing: whoever reads the URLs may press it at once, and with no
  // handler yet the signal's default action would kill the process mid-line.
  const interrupted = untilInterrupted(io);
  io.out(`${JSON.stringify({ venue: o.venue, wsUrl: sim.wsUrl, restUrl: sim.restUrl })}\n`);
  io.err(`simulator ${o.venue} with ${o.symbols} symbols: ${sim.wsUrl} (REST ${sim.restUrl})\n`);
  io.err('Ctrl-C to stop\n');
  await interrupted;
  await sim.close();
  return ExitCode.Ok;
}
