/**
 * Keeps the local stack's Firestore data (jobs, rejections, webhook delivery state) across
 * restarts of `npm start` with the same bucket folder. The Firestore emulator keeps everything in
 * memory; its export endpoint (`POST /emulator/v1/projects/{project}:export`) writes a snapshot
 * that `--import-data` loads at the next start. (`--export-on-exit` is not relied on: the emulator
 * does not export when its process group is stopped with a signal.)
 *
 * The snapshot lives in `<bucket folder>/.tunedrop-state/firestore/` (hidden: never an object).
 * Each export is written beside it and swapped in by rename, so a crash mid-export keeps the last
 * good one. The stack exports every few seconds while it runs and once more when it stops, so a
 * killed stack loses at most the last interval.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const stateDirName = '.tunedrop-state';

export const firestoreStateDir = (bucketDir: string) => join(bucketDir, stateDirName, 'firestore');

/** The `--import-data` path of the saved snapshot (its `.overall_export_metadata` file), if any. */
export function savedFirestoreExport(bucketDir: string): string | undefined {
  const dir = firestoreStateDir(bucketDir);
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const metadata = join(dir, entry.name, `${entry.name}.overall_export_metadata`);
    if (existsSync(metadata)) return metadata;
  }
  return undefined;
}

/** Writes a snapshot of the emulator's data and makes it the saved one. */
export async function exportFirestore(hostPort: string, project: string, bucketDir: string): Promise<void> {
  const dir = firestoreStateDir(bucketDir);
  const staging = `${dir}.${process.pid}.${Date.now()}.tmp`;
  mkdirSync(staging, { recursive: true });
  try {
    const response = await fetch(`http://${hostPort}/emulator/v1/projects/${project}:export`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        database: `projects/${project}/databases/(default)`,
        export_directory: staging,
      }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) {
      throw new Error(
        `the Firestore emulator refused the export (${response.status}): ${await response.text()}`,
      );
    }
    const old = `${dir}.${process.pid}.old`;
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(staging, dir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
