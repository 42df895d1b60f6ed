// One flat config for the whole workspace. Projects run `eslint .` from their own
// folder; ESLint finds this file by walking up.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Imports that algorithm and foundation libraries must never make (see docs/architecture.md). */
const hostOnlyImports = {
  paths: [
    { name: 'fs', message: 'Algorithm libraries take tensors; only data/app code touches the filesystem.' },
    { name: 'node:fs', message: 'Algorithm libraries take tensors; only data/app code touches the filesystem.' },
    { name: 'fs/promises', message: 'Algorithm libraries take tensors; only data/app code touches the filesystem.' },
    { name: 'node:fs/promises', message: 'Algorithm libraries take tensors; only data/app code touches the filesystem.' },
    { name: '@tensorflow/tfjs-node', message: 'Only the app chooses a native backend (@ddinit/core/backend).' },
    { name: '@tensorflow/tfjs-node-gpu', message: 'Only the app chooses a native backend (@ddinit/core/backend).' },
  ],
  patterns: [{ group: ['@aws-sdk/*'], message: 'Only the data library and the app talk to S3.' }],
};

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.nx/**', 'reports/**', 'artifacts/**', 'tmp/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:stage', 'type:data', 'type:foundation'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:stage', 'type:data', 'type:foundation'] },
            {
              sourceTag: 'type:stage',
              onlyDependOnLibsWithTags: ['type:foundation'],
              bannedExternalImports: ['@aws-sdk/*', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'apache-arrow'],
            },
            {
              sourceTag: 'type:data',
              onlyDependOnLibsWithTags: ['type:foundation'],
              bannedExternalImports: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
            },
            {
              sourceTag: 'type:foundation',
              onlyDependOnLibsWithTags: ['type:foundation'],
              bannedExternalImports: ['@aws-sdk/*', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'Randomness is explicit: take a seed or an Rng (@ddinit/core).',
        },
      ],
    },
  },
  {
    // Algorithm (stage) libraries and the foundation libraries: no filesystem, S3 or native backend.
    files: ['libs/core/src/**/*.ts', 'libs/models/src/**/*.ts', 'libs/init-*/src/**/*.ts', 'libs/pretrain/src/**/*.ts', 'libs/eval/src/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/core/src/backend/**', 'libs/core/src/testing/**'],
    rules: { 'no-restricted-imports': ['error', hostOnlyImports] },
  },
  {
    // Stage libraries never pick a backend: that is the app's job.
    files: ['libs/init-*/src/**/*.ts', 'libs/pretrain/src/**/*.ts', 'libs/eval/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...hostOnlyImports,
          paths: [
            ...hostOnlyImports.paths,
            { name: '@ddinit/core/backend', message: 'Only the app chooses the backend.' },
            { name: '@tensorflow/tfjs-backend-wasm', message: 'Only the app chooses the backend.' },
          ],
        },
      ],
    },
  },
  {
    // Tool configuration files sit outside the project graph.
    files: ['**/vitest.config.ts', 'vitest.shared.ts', 'eslint.config.mjs'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
