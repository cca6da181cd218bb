export {
  BlobAccessError,
  DestinationExistsError,
  fromFsError,
  fromGcsError,
  mapStreamErrors,
  StaleGenerationError,
} from './errors.ts';
export { createGcsBlobStore, type GcsBlobStoreOptions } from './gcs.ts';
export { createLocalBlobStore, type LocalBlobStoreOptions } from './local.ts';
export {
  assertPinDestination,
  assertWritable,
  incomingPrefix,
  isLocalTempName,
  isMetadataSidecar,
  metadataSidecarSuffix,
  reportNameFor,
  reportsPrefix,
  sidecarNameFor,
  validatedNameFor,
  validatedPrefix,
} from './paths.ts';
export { type PinnedDataset, pinGeneration, pinnedSourceKeys } from './pin.ts';
export type { BlobInfo, BlobStore, BlobVersion, CopyOptions, ReadOptions } from './types.ts';
