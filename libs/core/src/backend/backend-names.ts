/**
 * The tfjs backends `selectBackend` can set up, in the order `auto` tries them, as
 * one list of names: the CLI's `--backend`, the pipeline config and the Kubernetes
 * options read {@link BACKEND_CHOICES}. No tfjs import, so `@ddinit/core/base`
 * can offer the names before tfjs is loaded.
 */
export const BACKEND_NAMES = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What a caller may ask for: a backend by name, or `auto` (the first of {@link BACKEND_NAMES} that loads). */
export const BACKEND_CHOICES = ['auto', ...BACKEND_NAMES] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
