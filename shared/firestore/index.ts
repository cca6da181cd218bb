export {
  defaultTransactionSettings,
  describeFirestoreError,
  FirestoreContentionError,
  isContention,
  retryDelayMs,
  runTransaction,
  type TransactionOptions,
} from './transaction.ts';
