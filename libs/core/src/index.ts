export {
  BackendError,
  ConfigError,
  DataError,
  DdinitError,
  NumericalError,
  ShapeError,
  StorageError,
  formatErrorMessage,
  isDdinitError,
} from './errors';
export type { ErrorContext, ErrorKind } from './errors';
export { Rng } from './rng';
export { createMemoryLogger, silentLogger, silentProgress } from './logger';
export type { LogFields, LogLevel, LogRecord, Logger, Observers, ProgressEvent, ProgressListener } from './logger';
export { denseEigenpairs, symmetricMatrixFromTensor } from './linalg';
export type { Eigenpairs, SymmetricMatrix } from './linalg';
