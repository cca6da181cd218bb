/**
 * `npm run bench -- burst [--datasets 60] [--max-running 2] [--job-seconds 600] [--poll-seconds 60]`:
 * drops the datasets at once into a pipeline whose Vertex AI emulator allows `--max-running`
 * concurrent tuning jobs (drive.ts), on Firestore and Pub/Sub emulators started here, and prints
 * the time to drain (simulated), Vertex calls and job-store (Firestore) operations per job, and
 * whether every job SUCCEEDED with exactly one Vertex job. A measurement, not a test: the
 * integration test (test/integration/quota-burst.test.ts) holds the assertions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import {
  checkEmulatorPrerequisites,
  freePort,
  type RunningEmulator,
  startEmulator,
} from '../../local/emulators/index.ts';
import { createFirestore } from '../../shared/jobs/index.ts';
import { runBurst } from './drive.ts';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== 'burst'),
  options: {
    datasets: { type: 'string', default: '60' },
    'max-running': { type: 'string', default: '2' },
    'max-concurrent-jobs': { type: 'string', default: '4' },
    'job-seconds': { type: 'string', default: '600' },
    'poll-seconds': { type: 'string', default: '60' },
  },
});
const count = (name: keyof typeof values) => {
  const number = Number(values[name]);
  if (!Number.isInteger(number) || number < 1)
    throw new Error(`--${name} must be a whole number of 1 or more`);
  return number;
};

process.env.METADATA_SERVER_DETECTION = 'none';
process.env.CLOUDSDK_CORE_DISABLE_PROMPTS = '1';
checkEmulatorPrerequisites();
const project = 'tunedrop-bench';
const started: RunningEmulator[] = [];
const root = await mkdtemp(path.join(tmpdir(), 'tunedrop-bench-burst-'));
try {
  const [pubsubPort, firestorePort] = [await freePort(), await freePort()];
  started.push(
    ...(await Promise.all([
      startEmulator('pubsub', { port: pubsubPort }),
      startEmulator('firestore', { port: firestorePort }),
    ])),
  );
  const [pubsubEmulator, firestoreEmulator] = started as [RunningEmulator, RunningEmulator];
  process.env.PUBSUB_EMULATOR_HOST = pubsubEmulator.hostPort;
  process.env.FIRESTORE_EMULATOR_HOST = firestoreEmulator.hostPort;
  const firestore = createFirestore({ project });
  const pubsub = new PubSub({ projectId: project });
  const datasets = count('datasets');
  const maxRunning = count('max-running');
  console.log(
    `burst: ${datasets} datasets at once; Vertex quota ${maxRunning} concurrent jobs; ` +
      `tunedrop cap ${values['max-concurrent-jobs']}; jobs of ${values['job-seconds']} s; a poll every ${values['poll-seconds']} s`,
  );
  const result = await runBurst({
    firestore,
    pubsub,
    root,
    project,
    runId: `bench-${Date.now()}`,
    datasets,
    maxRunning,
    maxConcurrentJobs: count('max-concurrent-jobs'),
    jobSeconds: count('job-seconds'),
    pollSeconds: count('poll-seconds'),
  });
  await firestore.terminate();
  await pubsub.close();

  const states = new Map<string, number>();
  for (const record of result.records) states.set(record.state, (states.get(record.state) ?? 0) + 1);
  const perJob = (n: number) => (n / datasets).toFixed(2);
  const storeTotal = Object.values(result.storeOps).reduce((sum, n) => sum + n, 0);
  const waits = result.records.reduce((sum, record) => sum + (record.quotaWaits ?? 0), 0);
  const ok =
    result.records.length === datasets &&
    states.get('SUCCEEDED') === datasets &&
    result.vertexJobs === datasets;
  console.log(`jobs:             ${[...states].map(([state, n]) => `${n} ${state}`).join(', ')}`);
  console.log(`Vertex jobs:      ${result.vertexJobs} (peak running ${result.peakRunning})`);
  console.log(
    `time to drain:    ${(result.drainSeconds / 60).toFixed(1)} min simulated ` +
      `(ideal ${(result.idealSeconds / 60).toFixed(1)} min, +${((result.drainSeconds / result.idealSeconds - 1) * 100).toFixed(0)}%); ` +
      `${result.polls} polls; ${result.wallSeconds.toFixed(1)} s wall`,
  );
  console.log(
    `Vertex calls/job: ${perJob(result.vertexCalls.total)} ` +
      `(create ${perJob(result.vertexCalls.create)}, list ${perJob(result.vertexCalls.list)}, get ${perJob(result.vertexCalls.get)}); ` +
      `${waits} creates refused for quota (429)`,
  );
  console.log(
    `Firestore ops/job: ${perJob(storeTotal)} job-store calls (${Object.entries(result.storeOps)
      .sort((a, b) => b[1] - a[1])
      .map(([op, n]) => `${op} ${perJob(n)}`)
      .join(', ')})`,
  );
  console.log(
    ok ? 'PASS: every job SUCCEEDED, one Vertex job each' : 'MISS: not every job SUCCEEDED exactly once',
  );
} finally {
  await Promise.all(started.map((emulator) => emulator.stop()));
  await rm(root, { recursive: true, force: true });
}
