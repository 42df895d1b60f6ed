/**
 * Rendering a kustomization with `kubectl kustomize` (kustomize is built into
 * kubectl ≥ 1.14; the tree under `k8s/` needs kustomize v5, i.e. kubectl ≥ 1.27).
 * Runs offline: the kustomizations reference only local files, and the proxy
 * variables point at a closed loopback port so a remote reference would fail.
 */
import { spawnSync } from 'node:child_process';
import { BackendError, ConfigError } from '@ddinit/core';

/** The kubectl binary: `$KUBECTL` if set, else `kubectl` on PATH. */
export function kubectlPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.KUBECTL !== undefined && env.KUBECTL !== '' ? env.KUBECTL : 'kubectl';
}

export interface KustomizeResult {
  /** Multi-document YAML of the rendered objects. */
  yaml: string;
  /** What kustomize printed on stderr (deprecation warnings and the like). */
  warnings: string;
}

/**
 * Runs `kubectl kustomize <directory>`. Throws BackendError when kubectl is not
 * installed (saying how to get it) and ConfigError with kustomize's message when
 * the kustomization does not render.
 */
export function kustomizeBuild(directory: string, kubectl: string = kubectlPath()): KustomizeResult {
  const closed = 'http://127.0.0.1:9';
  const result = spawnSync(kubectl, ['kustomize', directory], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HTTP_PROXY: closed, HTTPS_PROXY: closed, http_proxy: closed, https_proxy: closed, NO_PROXY: '', no_proxy: '' },
  });
  if (result.error !== undefined) {
    const code = (result.error as NodeJS.ErrnoException).code;
    throw new BackendError(
      code === 'ENOENT'
        ? 'kubectl is not installed; the k8s specs render the kustomize tree with it (kubectl ≥ 1.27 for kustomize v5: ' +
            'put it on PATH or set KUBECTL=/path/to/kubectl)'
        : 'kubectl could not be run',
      { where: kubectl, expected: 'an executable kubectl', actual: code ?? result.error.message, cause: result.error },
    );
  }
  if (result.status !== 0) {
    throw new ConfigError('kubectl kustomize failed', {
      where: directory,
      expected: 'a kustomization that renders',
      actual: `exit ${result.status}: ${result.stderr.trim()}`,
    });
  }
  return { yaml: result.stdout, warnings: result.stderr.trim() };
}
