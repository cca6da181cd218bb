/**
 * The deployment's identity: a label value on everything tunedrop creates at a provider that
 * several deployments may share (a Yandex folder used by staging and prod, or by two teams), so
 * that each lists, adopts, cancels and frees only its own. Derived from what already tells two
 * deployments apart, the GCP project and the Firestore database and collection holding the
 * records: stable across restarts and redeploys, distinct between deployments, nothing to set.
 * TUNEDROP_DEPLOYMENT_ID overrides it (say, to keep the identity when the collection is renamed).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * A value valid as a label value at Vertex AI (lowercase letters, digits, `_` and `-`, at most 63:
 * the reference) and within Yandex Cloud's resource label rule (`[-_./\@0-9a-z]{0,63}`). The
 * AI Studio protos state no rule of their own for `labels` (UNCONFIRMED whether one is enforced),
 * so the value stays inside both, and is never empty.
 */
export const DeploymentId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'must be 1-63 lowercase letters, digits, "_" or "-", starting with a letter or digit (a label value)',
  );

export interface DeploymentSource {
  project: string;
  firestoreDatabase: string;
  jobsCollection: string;
}

/** 16 hex characters of sha256(project/database/collection): the records' home names the deployment. */
export function deploymentIdFor(source: DeploymentSource): string {
  return createHash('sha256')
    .update(`${source.project}/${source.firestoreDatabase}/${source.jobsCollection}`)
    .digest('hex')
    .slice(0, 16);
}
