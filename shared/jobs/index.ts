/** The job model, its state machine and its Firestore store. */
export * from './approval.ts';
export * from './continuous-tuning.ts';
export * from './duplicates.ts';
export * from './firestore-store.ts';
export * from './manifest.ts';
export * from './model.ts';
export * from './pinning.ts';
export * from './provider-rules.ts';
export * from './rejection.ts';
export * from './start-job.ts';
export * from './state-machine.ts';
export type * from './store-types.ts';
export * from './yandex-params.ts';
