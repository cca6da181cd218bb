import type { Config } from '../../shared/config/index.ts';
import type { EventPublisher } from '../../shared/events/index.ts';
import type { JobStore, RejectionStore } from '../../shared/jobs/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import type { TuningProvider } from '../../shared/providers/index.ts';
import type { BlobStore } from '../../shared/storage/index.ts';

/** Everything the API needs, passed in: nothing is read from the environment at import. */
export interface ApiDeps {
  config: Config;
  store: JobStore;
  /** Rejected uploads (state REJECTED): listed and read beside the jobs, never started. */
  rejections: RejectionStore;
  provider: TuningProvider;
  publisher: EventPublisher;
  blobs: BlobStore;
  logger: Logger;
  clock: () => Date;
}
