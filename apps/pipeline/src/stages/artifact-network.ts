/**
 * The network a stage reads from an earlier stage's artifact (init, pretrain or
 * finetune): its model.json + weights.bin, and the input normalization every
 * ddinit stage records in it, which the next stage reads its data with.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import type { InputNormalizationConfig } from '@ddinit/models/layers';
import { inputNormalizationOf, MODEL_FILE, modelFromFiles } from '../model/model-files';
import type { OpenedArtifact } from './stage-contract';

export interface ArtifactNetwork {
  network: tf.LayersModel;
  normalization: InputNormalizationConfig;
  /** The model.json's location, for messages. */
  where: string;
}

/**
 * Loads the artifact's network; `check` (e.g. that it takes the task's inputs) runs
 * before it is handed over. The caller disposes the network; on any error it is disposed here.
 * @throws ConfigError when the artifact records no input normalization.
 */
export async function networkOfArtifact(artifact: OpenedArtifact, check?: (network: tf.LayersModel, where: string) => void): Promise<ArtifactNetwork> {
  const { location, metadata } = artifact;
  const where = `${location.url}/${MODEL_FILE}`;
  const network = await modelFromFiles((name) => location.readFile(name, metadata), where);
  try {
    const normalization = inputNormalizationOf(network, where);
    if (normalization === undefined) {
      throw new ConfigError('the artifact has no input normalization to read the data with', {
        where,
        expected: 'userDefinedMetadata.ddinit.inputNormalization (written by every ddinit stage)',
      });
    }
    check?.(network, where);
    return { network, normalization, where };
  } catch (error) {
    network.dispose();
    throw error;
  }
}
