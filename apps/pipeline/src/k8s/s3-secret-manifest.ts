/**
 * The Secret with the S3 credentials, built from an environment (the user's shell
 * when they run `ddinit k8s render --secret-from-env`). Its keys are the standard
 * AWS SDK variable names, so the Jobs' `envFrom: secretRef` turns them straight
 * into the container's environment.
 */
import { ConfigError } from '@ddinit/core';
import { Secret } from 'kubernetes-models/v1';
import { S3_SECRET_KEYS, S3_SECRET_OPTIONAL_KEYS, type KubernetesOptions } from './kubernetes-options';
import { commonLabels } from './object-names';

/**
 * Renders the Secret `<s3SecretName>` from `env`. Required: AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_REGION; copied when set: AWS_ENDPOINT_URL_S3 (MinIO
 * and other S3-compatible stores), AWS_SESSION_TOKEN. Values are base64 in `data`,
 * as `kubectl create secret` writes them.
 *
 * Throws ConfigError naming the first missing required variable.
 */
export function renderS3Secret(options: KubernetesOptions, env: Readonly<Record<string, string | undefined>>): Secret {
  const data: Record<string, string> = {};
  for (const key of S3_SECRET_KEYS) {
    const value = env[key];
    if (value === undefined || value === '') {
      throw new ConfigError('an S3 credential is missing from the environment', {
        where: key,
        expected: `set in the shell that runs "ddinit k8s render --secret-from-env" (needed: ${S3_SECRET_KEYS.join(', ')})`,
        actual: 'unset',
      });
    }
    data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  for (const key of S3_SECRET_OPTIONAL_KEYS) {
    const value = env[key];
    if (value !== undefined && value !== '') data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  return new Secret({
    metadata: { name: options.s3SecretName, namespace: options.namespace, labels: commonLabels() },
    type: 'Opaque',
    data,
  });
}
