export {
  type Decision,
  defaultWriteSettings,
  describeFirestoreError,
  FirestoreContentionError,
  isRetryableWrite,
  type ReadModifyWriteOptions,
  readModifyWrite,
  retryDelayMs,
} from './read-modify-write.ts';
