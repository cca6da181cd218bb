/**
 * Starts the real Pub/Sub and Firestore emulators once for the integration and end-to-end tests,
 * on free ports, and stops their process groups afterwards. Tests find them through the standard
 * PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST variables, which the Google clients honour.
 */
import {
  checkEmulatorPrerequisites,
  freePort,
  type RunningEmulator,
  startEmulator,
} from '../../local/emulators/index.ts';

export default async function setup() {
  checkEmulatorPrerequisites();
  const [pubsubPort, firestorePort] = [await freePort(), await freePort()];
  const started: RunningEmulator[] = [];
  const stopAll = () => Promise.all(started.map((emulator) => emulator.stop()));
  try {
    started.push(
      ...(await Promise.all([
        startEmulator('pubsub', { port: pubsubPort }),
        startEmulator('firestore', { port: firestorePort }),
      ])),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  const [pubsub, firestore] = started as [RunningEmulator, RunningEmulator];
  process.env.PUBSUB_EMULATOR_HOST = pubsub.hostPort;
  process.env.FIRESTORE_EMULATOR_HOST = firestore.hostPort;
  process.env.GOOGLE_CLOUD_PROJECT = 'tunedrop-test';
  process.env.METADATA_SERVER_DETECTION = 'none';
  return stopAll;
}
