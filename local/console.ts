/**
 * How the local stack talks to a person: one line per job event, one line when a webhook starts
 * failing (and when it recovers or dead-letters), warnings from the functions once, every line with
 * its time, and the functions' full logs in `.tunedrop/logs/<function>.log`, each line timestamped.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const shortType = (type: unknown) => String(type ?? '').replace(/^tunedrop\.v1\./, '');

/** `HH:MM:SS` in local time, as the event lines and every other console line start. */
export const clock = (date: Date) => date.toTimeString().slice(0, 8);

export interface ConsoleContext {
  /** The bucket the folder stands in for, and the folder: reports are shown as local paths. */
  bucket: string;
  bucketDir: string;
}

/** `gs://<bucket>/<path>` of the local bucket as the file in the bucket folder; others unchanged. */
export function localPath(uri: string, context: ConsoleContext | undefined): string {
  const prefix = context ? `gs://${context.bucket}/` : undefined;
  return prefix && uri.startsWith(prefix) ? join(context!.bucketDir, uri.slice(prefix.length)) : uri;
}

/** `13:02:11  job.succeeded   3fa9…  SUCCEEDED  incoming/support.jsonl  → projects/…/models/1` */
export function formatEventLine(event: Record<string, unknown>, context?: ConsoleContext): string {
  // biome-ignore lint/suspicious/noExplicitAny: events of every type share this loose view
  const data = (event.data ?? {}) as Record<string, any>;
  const time = clock(new Date(String(event.time ?? Date.now())));
  const source = data.source?.object ?? data.object ?? '';
  const estimate = data.estimate ? `estimate $${Number(data.estimate.costUsd).toFixed(2)}` : '';
  const firstError = data.errors?.[0];
  const where = [firstError?.line ? `line ${firstError.line}` : '', firstError?.field ?? '']
    .filter(Boolean)
    .join(', ');
  const rejection = firstError
    ? `${data.errorCount} error(s), first: ${where ? `${where}: ` : ''}${firstError.message} (report: ${localPath(String(data.reportUri), context)})`
    : '';
  const approval =
    data.state === 'DRAFT' && data.approval?.reason ? `approval needed: ${data.approval.reason}` : '';
  const detail =
    data.result?.tunedModel ??
    data.error?.message ??
    (rejection || [estimate, approval].filter(Boolean).join('  '));
  return [
    time,
    // A replay keeps the original id and data: say it is a re-send, not news.
    `${shortType(event.type)}${event.replay === true ? ' (replay)' : ''}`.padEnd(17),
    String(event.subject ?? '').slice(0, 12),
    data.state ?? '',
    source,
    detail,
  ]
    .filter((part) => part !== '')
    .join('  ');
}

/** The console line for an event that exhausted its webhook deliveries, with how to send it again. */
export function formatDeadLetterLine(
  event: Record<string, unknown>,
  apiUrl: string,
  now = new Date(),
): string {
  const job = String(event.subject ?? '');
  return `${clock(now)}  webhook gave up on ${shortType(event.type)} of job ${job.slice(0, 12)} (event ${String(event.id)}): every delivery attempt failed, so it went to the dead-letter topic. Once the receiver is back: npx tunedrop jobs replay ${job} --api ${apiUrl}`;
}

interface LogEntry {
  severity?: string;
  message?: string;
  component?: string;
  time?: string;
  endpoint?: string;
  reportUri?: string;
  issues?: unknown;
  error?: { message?: string } | string;
  [key: string]: unknown;
}

/** A local-stack log line (JSON) for a person: time, severity, message, the error's message, no stack. */
export function formatLogLine(line: string, now = new Date()): string {
  let entry: LogEntry;
  try {
    entry = JSON.parse(line) as LogEntry;
  } catch {
    return `${clock(now)}  ${line}`;
  }
  const error = typeof entry.error === 'string' ? entry.error : entry.error?.message;
  const subject = typeof entry.object === 'string' ? ` (${entry.object})` : '';
  return `${clock(now)}  ${entry.severity ?? 'INFO'} ${entry.message ?? ''}${subject}${error ? `: ${error}` : ''}`;
}

/**
 * Appends each function's log lines to `.tunedrop/logs/<target>.log`, every line with its time (a
 * `time` field in a JSON line, an ISO prefix on a plain one), and returns what the console shows
 * of it, if anything:
 *
 * - warnings and errors, once, with their time; not the rejection warnings of ingest-dataset (the
 *   dataset.rejected event line already says it, with the first error and the report);
 * - of a failing webhook, one line when it starts failing and one when it delivers again: each
 *   attempt stays in the file only.
 */
export function createFunctionLogSink(logDir: string, now: () => Date = () => new Date()) {
  mkdirSync(logDir, { recursive: true });
  const failing = new Set<string>();
  return (target: string, line: string): string | undefined => {
    const time = now();
    let entry: LogEntry | undefined;
    try {
      const parsed = JSON.parse(line) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) entry = parsed as LogEntry;
    } catch {
      // A plain line from the framework itself.
    }
    const stamped = entry
      ? JSON.stringify(entry.time ? entry : { time: time.toISOString(), ...entry })
      : `${time.toISOString()} ${line}`;
    appendFileSync(join(logDir, `${target}.log`), `${stamped}\n`);
    if (!entry) return undefined;
    const prefix = `${clock(time)}  ${target}:`;

    if (entry.component === 'deliver-webhooks' && typeof entry.endpoint === 'string') {
      if (typeof entry.reason === 'string' && entry.severity === 'WARNING') {
        if (failing.has(entry.endpoint)) return undefined;
        failing.add(entry.endpoint);
        return `${prefix} webhook ${entry.endpoint} is failing (${entry.message?.replace(/^.*? failed: /, '').replace(/; Pub\/Sub redelivers the event$/, '') ?? entry.reason}); Pub/Sub keeps retrying with backoff, each attempt logged in ${join(logDir, `${target}.log`)}`;
      }
      if (entry.message?.startsWith('webhook delivered') && failing.delete(entry.endpoint)) {
        return `${prefix} webhook ${entry.endpoint} delivers again`;
      }
    }
    const severity = entry.severity ?? '';
    if (severity !== 'WARNING' && severity !== 'ERROR' && severity !== 'CRITICAL') return undefined;
    // Said by the dataset.rejected event line.
    if (
      entry.component === 'ingest-dataset' &&
      (entry.reportUri !== undefined || entry.issues !== undefined)
    ) {
      return undefined;
    }
    return `${prefix} ${severity} ${entry.message ?? ''}`;
  };
}
