/**
 * Stands in for Cloud Storage + Eventarc in the local stack: watches the folder that plays the
 * bucket and posts the same `google.cloud.storage.object.v1.finalized` CloudEvent Eventarc would,
 * once per completed write. A write counts as complete when the file's size and mtime have stayed
 * the same for a quiet period (a writer still appending keeps changing them); the generation is
 * the mtime in microseconds, as Cloud Storage generations are microsecond timestamps.
 */
import { randomUUID } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Logger } from '../shared/logging/index.ts';

export interface BucketWatcherOptions {
  root: string;
  bucket: string;
  /** Where to POST the CloudEvents: the ingest-dataset function. */
  target: string;
  logger: Logger;
  /** How long a file must stay unchanged to count as completely written (default 1 s). */
  quietMs?: number;
  /** Delivery attempts per event, with exponential backoff, like Eventarc's retry on failure. */
  maxAttempts?: number;
}

export interface StorageObjectData {
  kind: 'storage#object';
  id: string;
  selfLink: string;
  name: string;
  bucket: string;
  generation: string;
  metageneration: string;
  contentType: string;
  timeCreated: string;
  updated: string;
  storageClass: string;
  size: string;
}

const contentTypes: Record<string, string> = {
  '.jsonl': 'application/jsonl',
  '.json': 'application/json',
};

/**
 * Files that are not objects: hidden files and anything in a hidden folder (the stack's own lock
 * and saved state live there), and temporary files that writers rename into place.
 */
export function isTransientName(name: string): boolean {
  const segments = name.split('/');
  const base = segments.at(-1) ?? name;
  return (
    segments.some((segment) => segment.startsWith('.')) ||
    /\.(tmp|part|partial|swp|crdownload)$/.test(base) ||
    base.endsWith('~')
  );
}

/**
 * A header value as the CloudEvents HTTP binding (3.1.3.2) writes it: printable ASCII stays, and
 * everything else (space, `"`, `%`, any non-ASCII character as its UTF-8 bytes) is percent-encoded.
 * Header values are bytes, so an object name in any script would otherwise fail the request.
 */
export function encodeHeaderValue(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0x21 && code <= 0x7e && char !== '"' && char !== '%') out += char;
    else
      for (const byte of Buffer.from(char, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function finalizedEvent(bucket: string, name: string, size: bigint, mtimeNs: bigint) {
  const generation = (mtimeNs / 1000n).toString();
  const time = new Date(Number(mtimeNs / 1_000_000n)).toISOString();
  const extension = name.slice(name.lastIndexOf('.'));
  const data: StorageObjectData = {
    kind: 'storage#object',
    id: `${bucket}/${name}/${generation}`,
    selfLink: `https://www.googleapis.com/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`,
    name,
    bucket,
    generation,
    metageneration: '1',
    contentType: contentTypes[extension] ?? 'application/octet-stream',
    timeCreated: time,
    updated: time,
    storageClass: 'STANDARD',
    size: size.toString(),
  };
  // Binary content mode, as Eventarc delivers to Cloud Run: attributes in ce-* headers.
  const headers = {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': randomUUID(),
    'ce-source': `//storage.googleapis.com/projects/_/buckets/${bucket}`,
    'ce-type': 'google.cloud.storage.object.v1.finalized',
    'ce-subject': encodeHeaderValue(`objects/${name}`),
    'ce-time': time,
    'ce-bucket': bucket,
  };
  return { headers, data };
}

export function startBucketWatcher(options: BucketWatcherOptions): { close(): void } {
  const quietMs = options.quietMs ?? 1000;
  const maxAttempts = options.maxAttempts ?? 6;
  const pending = new Map<string, NodeJS.Timeout>();
  // Per object name (so bounded by the folder's files, not by how many writes happened): the size
  // and mtime last seen, and the generation last announced.
  const lastSeen = new Map<string, string>();
  const emitted = new Map<string, bigint>();
  let closed = false;

  const deliver = async (event: ReturnType<typeof finalizedEvent>) => {
    for (let attempt = 1; attempt <= maxAttempts && !closed; attempt++) {
      try {
        const response = await fetch(options.target, {
          method: 'POST',
          headers: event.headers,
          body: JSON.stringify(event.data),
        });
        if (response.ok) return;
        options.logger.warn('ingest answered an error; retrying like Eventarc', {
          object: event.data.name,
          status: response.status,
          attempt,
        });
      } catch (error) {
        options.logger.warn('ingest unreachable; retrying like Eventarc', {
          object: event.data.name,
          attempt,
          error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** (attempt - 1), 30_000)));
    }
    options.logger.error('gave up delivering a storage event', { object: event.data.name });
  };

  const check = async (name: string) => {
    pending.delete(name);
    let info: Awaited<ReturnType<typeof stat>> & { mtimeNs: bigint; size: bigint };
    try {
      info = await stat(join(options.root, name), { bigint: true });
    } catch {
      return; // Deleted or renamed away before it settled.
    }
    if (!info.isFile()) return;
    const signature = `${info.size}:${info.mtimeNs}`;
    if (lastSeen.get(name) !== signature) {
      // Still changing (or first sighting): look again after another quiet period.
      lastSeen.set(name, signature);
      schedule(name);
      return;
    }
    if (emitted.get(name) === info.mtimeNs) return;
    emitted.set(name, info.mtimeNs);
    options.logger.debug('object finalized', { object: name, size: Number(info.size) });
    await deliver(finalizedEvent(options.bucket, name, info.size, info.mtimeNs));
  };

  const schedule = (name: string) => {
    clearTimeout(pending.get(name));
    pending.set(
      name,
      setTimeout(() => void check(name), quietMs),
    );
  };

  const watcher: FSWatcher = watch(options.root, { recursive: true }, (_event, filename) => {
    if (!filename || closed) return;
    const name = relative('.', filename).split(sep).join('/');
    if (isTransientName(name)) return;
    schedule(name);
  });
  watcher.on('error', (error) => options.logger.error('bucket folder watcher failed', { error }));

  return {
    close() {
      closed = true;
      watcher.close();
      for (const timer of pending.values()) clearTimeout(timer);
    },
  };
}
