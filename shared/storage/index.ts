export {
  BlobAccessError,
  fromFsError,
  fromGcsError,
  mapStreamErrors,
  StaleGenerationError,
} from './errors.ts';
export { createGcsBlobStore, type GcsBlobStoreOptions } from './gcs.ts';
export { createLocalBlobStore, type LocalBlobStoreOptions } from './local.ts';
export {
  assertWritable,
  incomingPrefix,
  isLocalTempName,
  isMetadataSidecar,
  metadataSidecarSuffix,
  reportNameFor,
  reportsPrefix,
  sidecarNameFor,
} from './paths.ts';
export type { BlobInfo, BlobStore, ReadOptions } from './types.ts';
