/**
 * What one change-rate measurement (docs/method.md#change-rate) works on, prepared once per call: the model's
 * graph, its top (the last non-loss layer L), the layers that get a rate, and the
 * checked batch. Both the measurement (`measureChangeRates`) and the
 * calibration loop that repeats it (`calibrateChangeRates`) start here.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '@ddinit/core';
import { flattenModel, type ModelGraph, type ParameterLayer } from '@ddinit/models';
import { classifyLayers, type CalibrationLayers } from './calibration-layers';
import type { CalibrationOptions } from './calibration-options';
import { findTop, type GraphTop } from './graph-forward';
import { findMergeTies, type MergeTies } from './scale-plan';

/** The calibration batch: images `[n, …inputShape]`, optionally with one-hot labels `[n, classes]` for the real-loss variant. */
export type CalibrationBatch = tf.Tensor | { inputs: tf.Tensor; labels?: tf.Tensor };

/** Everything a measurement needs, prepared once per call. */
export interface MeasurementSetup {
  graph: ModelGraph;
  top: GraphTop;
  layers: CalibrationLayers;
  /** Layers that get a rate, a target contribution and a free scale (calibrated minus tied). */
  free: ParameterLayer[];
  ties: MergeTies | undefined;
  inputs: tf.Tensor;
  labels: tf.Tensor | undefined;
  options: CalibrationOptions;
}

function splitBatch(batch: CalibrationBatch): { inputs: tf.Tensor; labels: tf.Tensor | undefined } {
  return batch instanceof tf.Tensor ? { inputs: batch, labels: undefined } : { inputs: batch.inputs, labels: batch.labels };
}

/** Builds the graph, finds the top and the layers, checks the batch. */
export function prepareMeasurement(model: tf.LayersModel, batch: CalibrationBatch, options: CalibrationOptions): MeasurementSetup {
  const graph = flattenModel(model);
  if (graph.inputs.length !== 1) {
    throw new ConfigError('calibration needs a single-input model', {
      where: `model ${model.name}`,
      expected: '1 input',
      actual: `${graph.inputs.length} inputs`,
    });
  }
  const { inputs, labels } = splitBatch(batch);
  const inputNode = graph.nodes[graph.inputs[0]];
  const expected = inputNode.outputShapes[0];
  if (inputs.rank !== expected.length || expected.some((d, i) => d != null && d !== inputs.shape[i]) || inputs.shape[0] === 0) {
    throw new ShapeError('calibration batch does not match the model input', { where: `input ${inputNode.name}`, expected, actual: inputs.shape });
  }
  if (labels !== undefined && labels.shape[0] !== inputs.shape[0]) {
    throw new ShapeError('labels and inputs have different batch sizes', { where: 'calibration labels', expected: inputs.shape[0], actual: labels.shape[0] });
  }
  const top = findTop(graph);
  const layers = classifyLayers(graph, top, options.excludeLayers);
  const ties = options.functionPreserving ? findMergeTies(graph, top, layers) : undefined;
  const tied = new Set(ties?.ties.map((t) => t.node) ?? []);
  const free = layers.calibrated.filter((p) => !tied.has(p.node));
  if (ties !== undefined) {
    for (const t of ties.ties) {
      layers.uncalibrated.push({
        layer: t.layer,
        reason: `tied at ${t.merge}: function preservation sets its scale so that its branch matches the reference branch`,
      });
    }
  }
  if (free.length === 0) {
    throw new ConfigError('no layer to calibrate', {
      where: `model ${model.name}`,
      expected: 'at least one convolution or dense layer with a kernel below the top',
      actual: layers.uncalibrated.map((u) => `${u.layer} (${u.reason})`).join('; ') || 'no parameter layers',
    });
  }
  return { graph, top, layers, free, ties, inputs, labels, options };
}
