import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Running a command and measuring the memory of everything it starts. Worker threads share their
 * process, so the process's own peak (getrusage's maxRSS, which peak-rss.mjs prints on exit)
 * covers them; child processes (esbuild's service, which tsx and the in-memory worker bundling
 * start) do not show in it, so the process tree's RSS is also sampled from /proc while it runs.
 * The figure reported is the larger of the two: a sample can miss a short spike, the process's
 * own peak misses its children.
 */
export interface Measured {
  seconds: number;
  /** max(the main process's own peak, the sampled peak of the process tree). */
  peakRssBytes: number;
  ownPeakBytes: number;
  treePeakBytes: number;
  stdout: string;
  status: number | null;
}

const SAMPLE_MS = 20;
const PEAK_MARK = 'tunedrop-bench-peak-rss ';

export const PEAK_RSS_IMPORT = new URL('./peak-rss.mjs', import.meta.url).href;

export async function measure(args: string[]): Promise<Measured> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', PEAK_RSS_IMPORT, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  let treePeak = 0;
  const timer = setInterval(() => {
    if (child.pid !== undefined) treePeak = Math.max(treePeak, treeRssBytes(child.pid));
  }, SAMPLE_MS);
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const mark = stderr.lastIndexOf(PEAK_MARK);
  if (mark === -1) throw new Error(`${args.join(' ')} printed no peak RSS: ${stderr.slice(-2000)}`);
  const ownPeak = Number.parseInt(stderr.slice(mark + PEAK_MARK.length), 10);
  return {
    seconds,
    peakRssBytes: Math.max(ownPeak, treePeak),
    ownPeakBytes: ownPeak,
    treePeakBytes: treePeak,
    stdout,
    status,
  };
}

/** The resident memory of `pid` and all its descendants now (0 where /proc cannot tell). */
export function treeRssBytes(pid: number): number {
  const children = childrenByParent();
  let total = 0;
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    total += rssBytes(next);
    pending.push(...(children.get(next) ?? []));
  }
  return total;
}

function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0; // Exited between two reads.
  }
}

/** Every process's children, from the parent pid in /proc/PID/stat (after the command's ")"). */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(parent);
      if (list) list.push(Number(entry));
      else children.set(parent, [Number(entry)]);
    } catch {
      // Exited while listed.
    }
  }
  return children;
}
