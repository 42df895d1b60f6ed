export { BackendError, ConfigError, DataError, DdinitError, NumericalError, ShapeError, StorageError, formatErrorMessage, isDdinitError } from './errors';
export type { ErrorContext, ErrorKind } from './errors';
export { Rng } from './rng';
export { SUMS_OF_SQUARES, sumsOfSquares } from './backend/sums-of-squares';
export { CHANNEL_AFFINE, channelAffine } from './backend/channel-affine';
export { GATHER_PATCHES, gatherPatchRows } from './backend/gather-patches';
export type { PatchWindow } from './backend/gather-patches';
export { CHANNEL_MOMENTS, momentsOfValues, tensorChannelMoments } from './backend/channel-moments';
export type { ChannelMoments } from './backend/channel-moments';
export { GROUPED_CONV2D, groupedConv2d, hasGroupedConv2d } from './backend/grouped-conv2d';
export type { GroupedConv2DAttrs } from './backend/grouped-conv2d';
export { createMemoryLogger, silentLogger, silentProgress } from './logger';
export type { LogFields, LogLevel, LogRecord, Logger, Observers, ProgressEvent, ProgressListener } from './logger';
export {
  EIGEN_METHODS,
  KMEANS_ALGORITHMS,
  PCA_ROUTES,
  chooseEigenMethod,
  choleskyQrOrthonormalize,
  computeCovariance,
  createCovarianceAccumulator,
  denseEigenpairs,
  fillGaussian,
  gaussianMatrix,
  javascriptGaussian,
  javascriptEigenpairs,
  kmeans,
  linalgProvider,
  orthonormalDraw,
  orthonormalizeColumns,
  pcaFilters,
  principalComponents,
  projectWhitened,
  setLinalgProvider,
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
  EigenSolver,
  Eigenpairs,
  KMeansAlgorithm,
  KMeansOptions,
  KMeansResult,
  LinalgProvider,
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
