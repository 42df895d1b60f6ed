import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// vitest's own server defaults (no 'module': packages such as the AWS SDK ship
// extensionless ESM under it that Node cannot load), plus the source condition.
const SOURCE_CONDITIONS = ['@ddinit/source', 'node', 'development|production'];

/**
 * One vitest configuration for every project: specs beside the code, generous
 * timeouts (the wasm backend is single-threaded), and a JSON report per project
 * that `tools/scripts/summarize-tests.mjs` adds up into one closing line.
 */
export function projectVitestConfig(projectName: string, overrides: { testTimeout?: number } = {}) {
  return defineConfig({
    // Workspace packages resolve to their TypeScript sources (the `@ddinit/source`
    // export condition), not to dist/: specs never need a build.
    resolve: { conditions: SOURCE_CONDITIONS },
    ssr: { resolve: { conditions: SOURCE_CONDITIONS } },
    test: {
      name: projectName,
      include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
      environment: 'node',
      testTimeout: overrides.testTimeout ?? 120_000,
      hookTimeout: 120_000,
      reporters: ['default', 'json'],
      outputFile: { json: resolve(import.meta.dirname, 'reports/vitest', `${projectName}.json`) },
    },
  });
}
