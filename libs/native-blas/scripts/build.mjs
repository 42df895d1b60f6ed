#!/usr/bin/env node
/**
 * Install step of @ddinit/native-blas: builds the native kernels with node-gyp
 * against Debian's OpenBLAS when it can, and otherwise says why and succeeds.
 * The native kernels are optional: without them ddinit runs on the wasm
 * backend's single-threaded kernels (slower, same results).
 *
 * Needs: g++/make/python3 (node-gyp), Node's headers (npm's `nodedir`, or the
 * headers beside this Node.js), and `libopenblas-dev` (cblas.h, libopenblas.so).
 * Nothing is downloaded: without local headers the build is skipped.
 *
 * DDINIT_NATIVE_BLAS=0 skips the build; DDINIT_NATIVE_BLAS=require makes a
 * failed build fail the install (for images that must have it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.env.DDINIT_NATIVE_BLAS ?? 'auto';
const log = (line) => process.stderr.write(`@ddinit/native-blas: ${line}\n`);

function skip(reason) {
  if (mode === 'require') {
    log(`build failed and DDINIT_NATIVE_BLAS=require: ${reason}`);
    process.exit(1);
  }
  log(`native kernels not built (${reason}); ddinit will use the wasm kernels.`);
  log('to enable them: apt-get install libopenblas-dev g++ make python3, then npm rebuild @ddinit/native-blas');
  process.exit(0);
}

if (mode === '0' || mode === 'off') skip('DDINIT_NATIVE_BLAS=0');

const cblas = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/cblas.h', '/usr/include/openblas/cblas.h'];
if (!cblas.some((p) => existsSync(p))) skip('cblas.h not found: libopenblas-dev is not installed');

// Node's headers: npm's nodedir if set, else the include folder beside this Node.js; never a download.
const prefix = resolve(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined);
if (nodedir === undefined) skip(`Node.js headers not found under ${prefix}/include/node (set npm's nodedir)`);

function nodeGypScript() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  try {
    return createRequire(join(dirname(process.execPath), '../lib/node_modules/npm/package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}
const gyp = nodeGypScript();
if (gyp === undefined) skip('node-gyp not found (it ships with npm)');

const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], {
  cwd: here,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
});
if (result.status !== 0) {
  const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
  skip(`node-gyp rebuild exited with ${result.status ?? result.signal}:\n${tail}`);
}
log('built build/Release/ddinit_native_blas.node (OpenBLAS)');
