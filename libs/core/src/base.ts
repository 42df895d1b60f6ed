/**
 * `@ddinit/core/base`: the part of core that needs no tensors — the error
 * hierarchy, the logger and progress contracts, the seeded Rng and the names the
 * backend and linear-algebra options accept. Importing it does not load tfjs, so a caller can
 * parse a configuration, hash it and decide that nothing is to be done before
 * paying for tfjs (docs/RESULTS.md, "Start-up"). The same modules back
 * `@ddinit/core`, so an error thrown through one entry point is an `instanceof`
 * the class imported through the other.
 */
export { BackendError, ConfigError, DataError, DdinitError, NumericalError, ShapeError, StorageError, formatErrorMessage, isDdinitError } from './errors';
export type { ErrorContext, ErrorKind } from './errors';
export { Rng } from './rng';
export { createMemoryLogger, silentLogger, silentProgress } from './logger';
export type { LogFields, LogLevel, LogRecord, Logger, Observers, ProgressEvent, ProgressListener } from './logger';
export { BACKEND_CHOICES, BACKEND_NAMES } from './backend/backend-names';
export type { BackendChoice, BackendName } from './backend/backend-names';
export { EIGEN_METHODS, KMEANS_ALGORITHMS, PCA_ROUTES } from './linalg/algorithm-names';
export type { EigenMethod, KMeansAlgorithm, PcaRoute } from './linalg/algorithm-names';
