/**
 * @unifeed/cli: the `unifeed` command (`demo`, `watch`, `book`, `sim`). Programs can run it too:
 * `await main(['watch', 'btcusdt@bookTicker', '--limit', '3'])` resolves with the exit code.
 */
export { main } from './main.js';
export { ExitCode } from './exit-codes.js';
export type { Io } from './io.js';
export {
  startDemoScenario,
  DEMO_BOOKS,
  DEMO_BOOK_TICKERS,
  DEMO_HEARTBEAT,
  DEMO_INTERVALS,
  type DemoScenario,
  type DemoScenarioOptions,
} from './demo/scenario.js';
