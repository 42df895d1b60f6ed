/**
 * The process entry of `ddinit` (bin/ddinit.js runs the build of this file;
 * `nx run pipeline:dev` runs it from source): the exit code of {@link main}.
 */
import { main } from './main';

process.exitCode = await main(process.argv.slice(2));
