// Between-layer scale calibration (Krähenbühl et al. 2016, §3.2 / Algorithm 2) and LSUV as a peer.
export { calibrateChangeRates } from './calibrate-change-rates';
export type { CalibrationBatch } from './measurement-setup';
export { targetOf } from './rate-target';
export { measureChangeRates } from './measure-change-rates';
export type { ChangeRates } from './measure-change-rates';
export { lsuvInitialize } from './lsuv-initialize';
export type { LsuvLayerResult, LsuvResult } from './lsuv-initialize';
export { calibrationOptionsSchema, lsuvOptionsSchema, parseCalibrationOptions, parseLsuvOptions } from './calibration-options';
export type { CalibrationOptions, CalibrationOptionsInput, LsuvOptions, LsuvOptionsInput } from './calibration-options';
export type { CalibrationIteration, CalibrationResult } from './calibration-result';
export type { UncalibratedLayer } from './calibration-layers';
