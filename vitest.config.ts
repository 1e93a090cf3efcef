import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/** One test project per package that has tests: a new package needs no edit here. */
const packageProjects = readdirSync(`${root}packages`)
  .filter((dir) => existsSync(`${root}packages/${dir}/test`))
  .sort()
  .map((dir) => ({
    extends: true as const,
    test: { name: dir, include: [`packages/${dir}/test/**/*.test.ts`] },
  }));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources of every workspace package, so no build is
    // needed first. `@unifeed/<pkg>` maps to packages/<pkg>/src/index.ts, and a subpath
    // such as `@unifeed/core/testing` to packages/core/src/testing/index.ts.
    alias: [
      { find: /^@unifeed\/([^/]+)\/(.+)$/, replacement: `${root}packages/$1/src/$2/index.ts` },
      { find: /^@unifeed\/([^/]+)$/, replacement: `${root}packages/$1/src/index.ts` },
    ],
  },
  test: {
    // One file at a time: several suites time recovery against real sockets and a simulator in
    // the same process, and two cores shared by parallel files starve them into false failures.
    fileParallelism: false,
    // CI also writes a JSON report, which .ci/run summarises as one closing line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results.json' },
    projects: [
      ...packageProjects,
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
