/**
 * Which uploads tunedrop acts on. Pure: the one question that needs the bucket (does the folder
 * have a manifest?) is answered by the caller from `manifestCandidate`.
 *
 * - `incoming/<name>/tuning.json`: a manifest drop.
 * - `incoming/**\/*.jsonl`: a single-file drop, unless the top folder under incoming/ has a
 *   `tuning.json` (then the file is part of that manifest).
 * - Anything else is ignored, with the reason: `reports/` and `validated/` (tunedrop's own
 *   reports and pinned dataset copies) and whatever lies outside `incoming/`.
 */

import { manifestFileName } from '../../shared/jobs/manifest.ts';
import {
  incomingPrefix,
  isMetadataSidecar,
  reportsPrefix,
  validatedPrefix,
} from '../../shared/storage/index.ts';

export type Route =
  | { kind: 'manifest' }
  /** A dataset; `manifestCandidate` is the manifest that would claim it, if that exists. */
  | { kind: 'dataset'; manifestCandidate?: string }
  | { kind: 'ignored'; reason: string };

export function routeObject(name: string): Route {
  // Decided from the name alone, before any read: tunedrop's own objects never trigger work.
  if (name.startsWith(reportsPrefix)) return { kind: 'ignored', reason: "tunedrop's own output (reports/)" };
  if (name.startsWith(validatedPrefix)) {
    return { kind: 'ignored', reason: "tunedrop's pinned copy of a validated dataset (validated/)" };
  }
  if (!name.startsWith(incomingPrefix)) return { kind: 'ignored', reason: `outside ${incomingPrefix}` };
  if (name.endsWith('/')) return { kind: 'ignored', reason: 'a folder placeholder, not a file' };
  if (isMetadataSidecar(name)) return { kind: 'ignored', reason: 'a local metadata sidecar, not an upload' };
  const parts = name.slice(incomingPrefix.length).split('/');
  const base = parts.at(-1) ?? '';
  if (base === manifestFileName) {
    if (parts.length === 2) return { kind: 'manifest' };
    return {
      kind: 'ignored',
      reason: `a manifest must be at ${incomingPrefix}<name>/${manifestFileName}`,
    };
  }
  if (!base.endsWith('.jsonl')) {
    return { kind: 'ignored', reason: `not a .jsonl dataset or a ${manifestFileName} manifest` };
  }
  if (parts.length >= 2) {
    return { kind: 'dataset', manifestCandidate: `${incomingPrefix}${parts[0]}/${manifestFileName}` };
  }
  return { kind: 'dataset' };
}
