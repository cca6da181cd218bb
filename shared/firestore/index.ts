export {
  type Decision,
  defaultWriteSettings,
  describeFirestoreError,
  FirestoreContentionError,
  isRetryableRead,
  isRetryableWrite,
  type ReadModifyWriteOptions,
  readModifyWrite,
  retryDelayMs,
  writeTokenField,
} from './read-modify-write.ts';
