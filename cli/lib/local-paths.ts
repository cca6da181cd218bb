/**
 * In the local stack the bucket is a folder: a `gs://BUCKET/...` URI in an event means a file a
 * person can open. The console shows that path (relative to the current folder when inside it)
 * instead of the URI.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';

/** `gs://tunedrop-local/reports/x.report.json` → `.tunedrop/bucket/reports/x.report.json`. */
export function localPathOf(uri: string, bucketDir: string, bucket = 'tunedrop-local'): string {
  const prefix = `gs://${bucket}/`;
  if (!uri.startsWith(prefix)) return uri;
  const path = resolve(join(bucketDir, uri.slice(prefix.length)));
  const shown = relative(process.cwd(), path);
  return shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : path;
}

/** The event with `data.reportUri` as a local path, for the console line; the event is not changed. */
export function withLocalReportPath<T extends Record<string, unknown>>(
  event: T,
  bucketDir: string,
  bucket?: string,
): T {
  const data = event.data as Record<string, unknown> | undefined;
  if (typeof data?.reportUri !== 'string') return event;
  return { ...event, data: { ...data, reportUri: localPathOf(data.reportUri, bucketDir, bucket) } };
}
