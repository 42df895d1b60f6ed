/** Where the embedded sample is, apart from its reader so the path costs no Arrow import. */
import { fileURLToPath } from 'node:url';

/** Absolute path of the embedded Fashion-MNIST sample (a dataset directory). */
export function defaultDatasetPath(): string {
  return fileURLToPath(new URL('../../assets/fashion-mnist-sample', import.meta.url));
}
