#!/usr/bin/env node
// Entry point of the `ddinit` command: runs the TypeScript CLI through tsx, so the
// sources need no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
