/**
 * Which ports the local stack listens on: DESIGN.md's defaults, the same layout shifted to another
 * base (`--port-base 9080` → ingest 9081 … Vertex 9090, Yandex 9091 and 9092), or free ports picked by the OS for every
 * part (`--free-ports`), so tests and a parallel run never collide with a running `npm start`.
 */
import { freePort } from './emulators/index.ts';

export const defaultPorts = {
  ingest: 8081,
  poll: 8082,
  webhooks: 8083,
  api: 8084,
  pubsub: 8085,
  firestore: 8086,
  vertex: 8090,
  /** Yandex AI Studio emulator: gRPC, and the HTTP endpoint its upload URLs point at. */
  yandex: 8091,
  yandexUpload: 8092,
};
export type StackPorts = typeof defaultPorts;

/** What each port is for, in messages. */
export const portNames: Record<keyof StackPorts, string> = {
  ingest: 'ingest-dataset',
  poll: 'poll-jobs',
  webhooks: 'deliver-webhooks',
  api: 'api',
  pubsub: 'the Pub/Sub emulator',
  firestore: 'the Firestore emulator',
  vertex: 'the Vertex AI emulator',
  yandex: 'the Yandex AI Studio emulator (gRPC)',
  yandexUpload: 'the Yandex AI Studio emulator (uploads)',
};

export type PortChoice = { kind: 'default' } | { kind: 'base'; base: number } | { kind: 'free' };

const defaultBase = 8080;
const highestOffset = Math.max(...Object.values(defaultPorts)) - defaultBase;

/** The default layout shifted so that `base` takes the place of 8080. */
export function portsFromBase(base: number): StackPorts {
  if (!Number.isInteger(base) || base < 1024 || base + highestOffset > 65535) {
    throw new RangeError(`--port-base must be a whole number from 1024 to ${65535 - highestOffset}`);
  }
  return Object.fromEntries(
    Object.entries(defaultPorts).map(([key, port]) => [key, port - defaultBase + base]),
  ) as StackPorts;
}

/** One free port per part, all different. */
export async function pickFreePorts(): Promise<StackPorts> {
  const taken = new Set<number>();
  const entries: [string, number][] = [];
  for (const key of Object.keys(defaultPorts)) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    entries.push([key, port]);
  }
  return Object.fromEntries(entries) as StackPorts;
}

export async function resolvePorts(choice: PortChoice): Promise<StackPorts> {
  if (choice.kind === 'free') return pickFreePorts();
  if (choice.kind === 'base') return portsFromBase(choice.base);
  return { ...defaultPorts };
}

/** `ingest-dataset 8081, poll-jobs 8082, …` for the console. */
export function describePorts(ports: StackPorts): string {
  return (Object.keys(ports) as (keyof StackPorts)[])
    .map((key) => `${portNames[key].replace(/^the /, '')} ${ports[key]}`)
    .join(', ');
}
