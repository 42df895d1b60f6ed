/**
 * Reading a study file for `ddinit compare` and `ddinit k8s render --workflow`:
 * the default study without one, a misspelt key answered with the closest known one.
 */
import { ZodError } from 'zod';
import { explainUnknownKeys } from '../config/key-suggestions';
import { readPipelineDocument } from '../k8s/pipeline-document';
import { DEFAULT_STUDY, StudyConfigSchema, parseStudyConfig, type StudyConfig } from './study-config';

/**
 * The study of the file at `path` (DEFAULT_STUDY when undefined), with `overrides` (e.g. `out`) over the file's keys.
 * @throws ConfigError for an unreadable file; ZodError for a value the schema rejects.
 */
export function loadStudyConfig(path: string | undefined, overrides: Readonly<Record<string, unknown>> = {}): StudyConfig {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  if (path === undefined && Object.keys(given).length === 0) return DEFAULT_STUDY;
  try {
    return parseStudyConfig({ ...(path === undefined ? {} : readPipelineDocument(path)), ...given });
  } catch (error) {
    throw error instanceof ZodError ? explainUnknownKeys(error, StudyConfigSchema, () => (path === undefined ? 'the flags' : `study file ${path}`)) : error;
  }
}
