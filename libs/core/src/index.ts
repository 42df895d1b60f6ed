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
export {
  EIGEN_METHODS,
  KMEANS_ALGORITHMS,
  PCA_ROUTES,
  chooseEigenMethod,
  computeCovariance,
  createCovarianceAccumulator,
  denseEigenpairs,
  kmeans,
  orthonormalizeColumns,
  pcaFilters,
  principalComponents,
  projectWhitened,
  subspaceEigenpairs,
  symmetricMatrixFromTensor,
  topEigenpairs,
  whitenedToFilters,
  whiteningScales,
  zcaFilters,
} from './linalg';
export type {
  CovarianceAccumulator,
  CovarianceOptions,
  CovarianceResult,
  EigenMethod,
  Eigenpairs,
  KMeansAlgorithm,
  KMeansOptions,
  KMeansResult,
  PcaRoute,
  PrincipalComponents,
  PrincipalComponentsOptions,
  SubspaceEigenpairs,
  SubspaceIterationOptions,
  SymmetricMatrix,
  TopEigenpairs,
  TopEigenpairsOptions,
  WhiteningOptions,
} from './linalg';
