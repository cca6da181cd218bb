/**
 * ingest-dataset's platform adapter: validates the `google.cloud.storage.object.v1.finalized`
 * CloudEvent and hands the object to the core (ingest.ts). Register it with
 * `functions.cloudEvent('ingestDataset', createIngestHandler(deps))`.
 *
 * Resolving means "acknowledged"; throwing makes Eventarc redeliver. Malformed events and
 * permanent errors are acknowledged (a retry cannot fix them); everything else is thrown.
 */
import type { CloudEvent, CloudEventFunction } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { PermanentError } from '../../shared/errors/index.ts';
import { type IngestDeps, type IngestOutcome, ingestObject } from './ingest.ts';
import * as logs from './logs.ts';
import { finalizedEventType, StorageObjectData } from './storage-event.ts';

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
      if (error instanceof PermanentError) {
        logs.logPermanentFailure(deps.logger, ref, error);
        return undefined;
      }
      logs.logTransientFailure(deps.logger, ref, error);
      throw error;
    }
  };
}
