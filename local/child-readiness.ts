/**
 * Watching a child server start: its recent output (for the error message when it does not come
 * up) and a wait until it answers HTTP, failing at once if it exits first.
 */
import type { ChildProcess } from 'node:child_process';

/** Keeps the last `keep` lines the child printed, and hands each line to `onLine`. */
export function collectOutput(child: ChildProcess, onLine?: (line: string) => void, keep = 200): string[] {
  const recent: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      recent.push(line);
      if (recent.length > keep) recent.shift();
      onLine?.(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return recent;
}

export interface WaitForHttpOptions {
  /** What is starting, for messages: "emulator", "function". */
  what: string;
  timeoutMs: number;
  /** The child's recent output, quoted when it fails. */
  output: string[];
  /** True: any HTTP answer counts (a function may refuse a bare GET); false: only a 2xx. */
  anyStatus: boolean;
  /**
   * How long one check may take. Generous on purpose: a check that gives up early on a busy
   * machine only sends another, and the URL checked must be cheap to answer (a health route).
   */
  requestTimeoutMs?: number;
  /** The error type callers expect. */
  fail?: (message: string) => Error;
}

export async function waitForHttp(
  child: ChildProcess,
  url: string,
  options: WaitForHttpOptions,
): Promise<void> {
  const fail = options.fail ?? ((message: string) => new Error(message));
  const tail = () => options.output.slice(-20).join('\n');
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw fail(`${options.what} exited with ${child.signalCode ?? `code ${child.exitCode}`}:\n${tail()}`);
    }
    try {
      const remaining = Math.max(1, deadline - Date.now());
      const response = await fetch(url, {
        signal: AbortSignal.timeout(Math.min(options.requestTimeoutMs ?? 10_000, remaining)),
      });
      await response.body?.cancel();
      if (options.anyStatus || response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw fail(`${options.what} did not answer at ${url} within ${options.timeoutMs} ms:\n${tail()}`);
}
