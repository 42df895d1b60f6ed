// Format: features ↔ Arrow schema, manifest.
export type { Box, Example } from './format/example';
export { checkBoxes } from './format/boxes';
export { SHARD_FORMAT_VERSION, parseFeatures, rawImageBytes } from './format/features';
export { BOX_FIELDS, boxStructType, featuresToSchema, schemaToFeatures } from './format/arrow-schema';
export type { DatasetFeatures, DatasetFeaturesInput, ImageFeature, LabelKind } from './format/features';
export { MANIFEST_NAME, builderSchema, manifestSchema, parseManifest, readManifest, serializeManifest } from './format/manifest';
export type { DatasetBuilder, DatasetManifest, ShardEntry, SplitEntry } from './format/manifest';

// Storage: local directories and S3 prefixes.
export type { BlobStore, RangeHandle } from './storage/blob-store';
export { LocalStore } from './storage/local-store';
export { S3Store } from './storage/s3-store';
export { parseS3Uri } from './storage/s3-uri';
export type { S3StoreOptions } from './storage/s3-store';
export { createS3Client, describeCredentialSource, resolveS3Endpoint } from './storage/s3-client';
export type { S3ClientOptions } from './storage/s3-client';
export { isS3Uri, openStore } from './storage/open-store';
export type { StoreOptions } from './storage/open-store';
export { isRetryableError, withRetries } from './storage/retry';
export type { RetryOptions } from './storage/retry';

// Writing.
export { DatasetWriter, createDatasetWriter, writeDataset } from './write/dataset-writer';
export type { DatasetWriterOptions } from './write/dataset-writer';

// Reading.
export { Dataset, openDataset } from './read/dataset';
export type { BatchOptions, OpenDatasetOptions, ReadOptions } from './read/dataset';
export { ShardStream, readShard } from './read/shard-reader';
export type { ShardReadOptions, ShardRef } from './read/shard-reader';
export { BufferPool } from './read/buffer-pool';

// Iteration: epochs, batches, tensors, augmentation, patches.
export { checkWorkerOptions, planEpoch } from './iterate/epoch-plan';
export type { EpochOptions, PlannedShard } from './iterate/epoch-plan';
export type { UintBatch } from './iterate/uint-batch';
export { stepBatches, stepReader, stepsPerEpoch } from './iterate/step-batches';
export type { StepBatchOptions } from './iterate/step-batches';
export { normalizeBytes, tensorBatches, toTensorBatch } from './iterate/tensor-batch';
export type { NormalizeOptions, TensorBatch, TensorBatchOptions } from './iterate/tensor-batch';
export { augmentBatch, augmentRng, centerCropBatch, moveBoxes } from './iterate/augment';
export type { AugmentOptions } from './iterate/augment';
export { batchImages, patchesToTensor, samplePatches } from './iterate/patch-sampler';
export type { PatchSample, PatchSampleOptions, PatchSource } from './iterate/patch-sampler';

// Images.
export { decodeImage, encodeJpeg, encodePng, probeImage } from './image/image-codec';
export type { DecodeOptions, RawImage } from './image/image-codec';

// Converters.
export { convertIdx, idxExamples, isGzip, parseIdx, readIdxFile } from './convert/idx';
export type { ConvertIdxOptions, IdxArray, IdxSplitFiles } from './convert/idx';
export { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, FASHION_MNIST_LICENSE, FASHION_MNIST_SOURCE, convertFashionMnist } from './convert/fashion-mnist';
export type { ConvertFashionMnistOptions } from './convert/fashion-mnist';

// Embedded data.
export { DEFAULT_SAMPLE_PER_CLASS, buildDefaultDataset, defaultDatasetPath, openDefaultDataset } from './embedded/default-dataset';
export { cifarRecords, convertCifar } from './convert/cifar';
export type { ConvertCifarOptions } from './convert/cifar';
export { convertImageFolder } from './convert/image-folder';
export type { ConvertImageFolderOptions } from './convert/image-folder';
export { convertVoc } from './convert/voc';
export type { ConvertVocOptions } from './convert/voc';
export { VOC_CLASSES, VOC_VOID, decodeVocMask, parseVocObjects, vocColour } from './convert/voc-annotations';
export type { VocObject } from './convert/voc-annotations';
export { NATURAL_PHOTOS, loadNaturalPhotos, naturalPhotoPath, readNaturalPhoto, writeNaturalPhotoDataset } from './embedded/natural-photos';
export type { LoadPhotosOptions, NaturalPhoto } from './embedded/natural-photos';

// Composed scenes (VOC's three tasks from Fashion-MNIST items).
export { COMPOSE_DEFAULTS, composeScenes } from './compose/compose-scenes';
export type { ComposeScenesOptions } from './compose/compose-scenes';
export { SCENE_VOID, composeScene } from './compose/compose-scene';
export type { Scene, SceneItems, SceneParameters } from './compose/compose-scene';

// Inspection.
export { formatDatasetReport, inspectDataset } from './inspect';
export type { DatasetReport, InspectOptions, SplitReport } from './inspect';
