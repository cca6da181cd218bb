/**
 * tunedrop's events: schemas (the one place they are defined), building and ids, the outbox on
 * the job record, and the Pub/Sub publisher.
 */
export * from './build.ts';
export * from './docs.ts';
export * from './outbox.ts';
export * from './publisher.ts';
export * from './schemas.ts';
