/**
 * The process entry of `ddinit` (bin/ddinit.js runs the build of this file;
 * `nx run pipeline:dev` runs it from source): the exit code of {@link main}.
 */
import { main } from './main';

// A promise nobody awaited failed: report it in one line and exit 1 (the wasm
// backend's own handler would print its whole source and exit 7).
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`ddinit: internal error: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`);
  process.exit(1);
});

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Anything main() left running (a socket, a worker) must not keep a finished
// process, and in a pod its GPU, alive: the timer is unref'd, so it fires only then.
setTimeout(() => {
  process.stderr.write('ddinit: still running 5 s after finishing (an open socket or worker); exiting\n');
  process.exit(code);
}, 5_000).unref();
