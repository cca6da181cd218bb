/**
 * ingest-dataset's platform adapter: validates the `google.cloud.storage.object.v1.finalized`
 * CloudEvent and hands the object to the core (ingest.ts). Register it with
 * `functions.cloudEvent('ingestDataset', createIngestHandler(deps))`.
 *
 * Resolving means "acknowledged"; throwing makes Eventarc redeliver. Malformed events are
 * acknowledged. An error is classified by what it is (classify.ts): a permanent one gets a report
 * and a `dataset.rejected` event, then is acknowledged; a transient one is thrown.
 */
import type { CloudEvent, CloudEventFunction } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { classifyIngestError } from './classify.ts';
import { reportPermanentFailure } from './failure.ts';
import { type IngestDeps, type IngestOutcome, ingestObject } from './ingest.ts';
import * as logs from './logs.ts';
import { finalizedEventType, StorageObjectData } from './storage-event.ts';

export { type Classification, classifyIngestError } from './classify.ts';
export {
  defaultDisplayName,
  type IngestDeps,
  type IngestEvent,
  type IngestOutcome,
  ingestObject,
} from './ingest.ts';
export type { DatasetReport, IngestReport } from './report.ts';
export { type Route, routeObject } from './routing.ts';
export { finalizedEventType, StorageObjectData } from './storage-event.ts';

/** Handles one CloudEvent; resolves with what was done (the Functions Framework ignores it). */
export function createIngestHandler(
  deps: IngestDeps,
): CloudEventFunction<unknown> & ((event: CloudEvent<unknown>) => Promise<IngestOutcome | undefined>) {
  return async (event: CloudEvent<unknown>) => {
    // A trigger misconfigured for deletions or metadata updates must not start jobs.
    if (event.type !== finalizedEventType) {
      logs.logUnexpectedEventType(deps.logger.child({ eventId: event.id }), event.type);
      return undefined;
    }
    const parsed = StorageObjectData.safeParse(event.data);
    if (!parsed.success) {
      logs.logInvalidEvent(deps.logger.child({ eventId: event.id }), z.prettifyError(parsed.error));
      return undefined;
    }
    const object = parsed.data;
    const ref = { bucket: object.bucket, object: object.name, generation: object.generation };
    try {
      return await ingestObject(deps, { object, eventTime: event.time, eventId: event.id });
    } catch (error) {
      const classification = classifyIngestError(error);
      if (classification.kind === 'transient') {
        logs.logTransientFailure(deps.logger, ref, error, classification.rule);
        throw error;
      }
      logs.logPermanentFailure(deps.logger, ref, error, classification.rule);
      // A failure to report (storage or Pub/Sub down) throws: the redelivery reports it then.
      await reportPermanentFailure(
        deps,
        deps.logger.child({ eventId: event.id }),
        ref,
        error,
        classification,
      );
      return undefined;
    }
  };
}
