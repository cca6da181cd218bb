/** How the local stack talks to a person: one line per job event, function logs kept in files. */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const shortType = (type: unknown) => String(type ?? '').replace(/^tunedrop\.v1\./, '');

/** `13:02:11  job.succeeded   3fa9…  SUCCEEDED  incoming/support.jsonl  → projects/…/models/1` */
export function formatEventLine(event: Record<string, unknown>): string {
  // biome-ignore lint/suspicious/noExplicitAny: events of every type share this loose view
  const data = (event.data ?? {}) as Record<string, any>;
  const time = new Date(String(event.time ?? Date.now())).toTimeString().slice(0, 8);
  const source = data.source?.object ?? data.object ?? '';
  const estimate = data.estimate ? `estimate $${Number(data.estimate.costUsd).toFixed(2)}` : '';
  const firstError = data.errors?.[0];
  const where = firstError?.line ? `line ${firstError.line} ` : '';
  const rejection = firstError
    ? `${data.errorCount} error(s), first: ${where}${firstError.message} (report: ${data.reportUri})`
    : '';
  const detail = data.result?.tunedModel ?? data.error?.message ?? (rejection || estimate);
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

/** Appends each function's log lines to .tunedrop/logs/<target>.log; returns the warnings for the console. */
export function createFunctionLogSink(logDir: string) {
  mkdirSync(logDir, { recursive: true });
  return (target: string, line: string): string | undefined => {
    appendFileSync(join(logDir, `${target}.log`), `${line}\n`);
    try {
      const entry = JSON.parse(line) as { severity?: string; message?: string };
      if (entry.severity === 'WARNING' || entry.severity === 'ERROR' || entry.severity === 'CRITICAL') {
        return `${target}: ${entry.severity} ${entry.message ?? ''}`;
      }
    } catch {
      // A plain line from the framework itself: only in the file.
    }
    return undefined;
  };
}
