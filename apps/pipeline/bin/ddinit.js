#!/usr/bin/env node
// Entry point of the `ddinit` command: the compiled CLI in dist/ (`nx run pipeline:build`,
// run by `npm ci` and before every Nx target that needs it). From the TypeScript sources
// instead: `npx nx run pipeline:dev -- <args>`.
try {
  await import('../dist/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli.js')) throw error;
  process.stderr.write('ddinit: the CLI is not built (dist/cli.js is missing): run `npx nx run pipeline:build`\n');
  process.exitCode = 1;
}
