#!/usr/bin/env node
/**
 * Builds one workspace package (run from its folder; the Nx `build` target):
 *
 * 1. every `src/**\/*.ts` but specs → `dist/**\/*.js` (ESM, Node 20), one output file
 *    per source file, so `import.meta.url` paths (assets, the native addon) and lazy
 *    `import()`s mean the same in dist as in src. esbuild transpiles; extensionless
 *    relative imports (`./foo`, `./dir`) are rewritten to what Node's ESM resolver
 *    needs (`./foo.js`, `./dir/index.js`); JSON imports are inlined (Node 20 warns on
 *    JSON modules); packages stay imports.
 * 2. other files under src (`.mjs` helpers) are copied beside them.
 * 3. `tsc -p tsconfig.lib.json` writes the declarations, whose relative specifiers get
 *    the same rewrite so `moduleResolution: node16/nodenext` consumers resolve them.
 * 4. the entries listed under `ddinit.cjs` in package.json → `dist/<name>.cjs`,
 *    CommonJS bundles of the workspace sources they need (third-party packages stay
 *    `require`s), for CommonJS callers on Node 20, which cannot `require()` ESM.
 *
 * Why esbuild and not tsc's own emit: docs/architecture.md, "Builds".
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const root = process.cwd();
const src = join(root, 'src');
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const require = createRequire(import.meta.url);

/** Every file under `dir`, recursively. */
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const isSpec = (path) => /\.spec\.ts$/.test(path);

/**
 * The specifier Node needs for the relative import `spec` of a file in `dir`, or
 * undefined when it already names a file: `./x` → `./x.js` when `x.<ext>` exists,
 * `./dir/index.js` when `dir/index.<ext>` does.
 */
function withJsExtension(spec, dir, ext) {
  const target = resolve(dir, spec);
  if (existsSync(`${target}${ext}`)) return `${spec}.js`;
  if (existsSync(join(target, `index${ext}`))) return `${spec}/index.js`;
  if (spec.endsWith('.ts')) return `${spec.slice(0, -3)}.js`;
  return undefined;
}

/** esbuild plugin: relative imports of other sources stay imports, with extensions. */
const keepRelativeImports = {
  name: 'keep-relative-imports',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === 'entry-point' || args.path.endsWith('.json')) return undefined;
      const path = withJsExtension(args.path, args.resolveDir, '.ts') ?? args.path;
      return { path, external: true };
    });
  },
};

async function buildEsm() {
  const files = walk(src);
  await build({
    entryPoints: files.filter((f) => f.endsWith('.ts') && !isSpec(f)),
    outdir: dist,
    outbase: src,
    bundle: true,
    packages: 'external',
    plugins: [keepRelativeImports],
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const file of files.filter((f) => /\.(mjs|cjs|js)$/.test(f))) {
    cpSync(file, join(dist, relative(src, file)));
  }
}

function buildDeclarations() {
  const tsc = require.resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.lib.json'], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`tsc -p tsconfig.lib.json failed in ${root}`);
  const specifier = /(\bfrom\s*|\bimport\s*\(\s*)(['"])(\.\.?\/[^'"]+)\2/g;
  for (const file of walk(dist).filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(specifier, (all, head, quote, spec) => {
      const rewritten = withJsExtension(spec, dirname(file), '.d.ts');
      return rewritten ? `${head}${quote}${rewritten}${quote}` : all;
    });
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

/** `ddinit.cjs`: { "<out name>": "src/<entry>.ts" } → dist/<out name>.cjs */
async function buildCommonJs() {
  const entries = pkg.ddinit?.cjs ?? {};
  for (const [name, entry] of Object.entries(entries)) {
    await build({
      entryPoints: [join(root, entry)],
      outfile: join(dist, `${name}.cjs`),
      bundle: true,
      // Workspace packages are ESM: bundle their sources; everything else is required.
      conditions: ['@ddinit/source'],
      plugins: [externalUnlessWorkspace],
      // `import.meta.url` of a bundled module becomes the bundle's own URL (enough for
      // createRequire; asset paths relative to a source file are not used by these entries).
      define: { 'import.meta.url': '__importMetaUrl' },
      banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      logLevel: 'warning',
    });
  }
}

const externalUnlessWorkspace = {
  name: 'external-unless-workspace',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@ddinit/') ? undefined : { path: args.path, external: true }));
  },
};

rmSync(dist, { recursive: true, force: true });
await buildEsm();
buildDeclarations();
await buildCommonJs();
