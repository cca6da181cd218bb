/**
 * Object-name rules shared by every blob store: where tunedrop may write, and the names the local
 * store keeps for itself (custom-metadata sidecars and temporary files), which are never uploads.
 */
import { PermanentError } from '../errors/index.ts';

/** The prefix users upload to. tunedrop never writes, overwrites or deletes anything under it. */
export const incomingPrefix = 'incoming/';
/** Where validation reports go: `reports/<object path>.report.json`. */
export const reportsPrefix = 'reports/';
/**
 * Where tunedrop pins the exact generation it validated: `validated/<job id>/<role>/<file name>`.
 * Written only by tunedrop (create-if-absent server-side copies), never by users, never a trigger
 * (ingest acts on `incoming/` alone); what the provider trains on. A lifecycle rule deletes it.
 */
export const validatedPrefix = 'validated/';

/** The local store keeps an object's custom metadata in `<name>.metadata.json` beside it. */
export const metadataSidecarSuffix = '.metadata.json';

export function isMetadataSidecar(name: string): boolean {
  return name.endsWith(metadataSidecarSuffix) && name.length > metadataSidecarSuffix.length;
}

export function sidecarNameFor(name: string): string {
  return `${name}${metadataSidecarSuffix}`;
}

/** Temporary files of the local store's atomic writes: hidden, so folder watchers skip them too. */
export function isLocalTempName(name: string): boolean {
  const base = name.split('/').pop() ?? name;
  return base.startsWith('.tunedrop-tmp-');
}

/** The report path of an uploaded object, e.g. `reports/incoming/a.jsonl.report.json`. */
export function reportNameFor(objectName: string): string {
  return `${reportsPrefix}${objectName}.report.json`;
}

/**
 * The pinned copy of a dataset for a job: `validated/<job id>/<role>/<file name>`. The role keeps a
 * training and a validation file of the same name apart; the file name keeps it recognisable.
 */
export function validatedNameFor(jobId: string, role: 'training' | 'validation', sourceName: string): string {
  const base = sourceName.split('/').pop() || 'dataset.jsonl';
  return `${validatedPrefix}${jobId}/${role}/${base}`;
}

/** A pinned copy may only be created under `validated/`: nowhere a user or a report lives. */
export function assertPinDestination(name: string): void {
  if (!name.startsWith(validatedPrefix) || name.length === validatedPrefix.length) {
    throw new PermanentError(
      `refusing to copy to ${name}: pinned copies go under ${validatedPrefix} only`,
      'write-refused',
    );
  }
}

export function assertWritable(name: string): void {
  if (name.startsWith(incomingPrefix)) {
    throw new PermanentError(
      `refusing to write ${name}: tunedrop never modifies uploads under ${incomingPrefix}`,
      'write-refused',
    );
  }
}
