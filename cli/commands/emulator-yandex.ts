import { parseArgs } from 'node:util';
import { startYandexEmulator, type YandexEmulatorOptions } from '../../local/yandex-emulator/index.ts';
import { createLogger } from '../../shared/logging/index.ts';

export const yandexUsage = `Usage: tunedrop emulator yandex [options]

Runs the Yandex AI Studio emulator until interrupted: DatasetService, TuningService and
OperationService over plaintext gRPC, and the HTTP endpoint its upload URLs point at.

Options:
  --port N                 gRPC port (default 8091; 0 picks a free one)
  --upload-port N          HTTP port for uploads and /emulator/ admin calls (default 8092)
  --host HOST              interface to bind (default 127.0.0.1)
  --task-seconds S         time from Tune to COMPLETED (default 10)
  --validate-ms MS         time from Validate to its operation being done (default 500)
  --describe-delay-ms MS   Describe/List answer NOT_FOUND this long after Tune (default 1000)
  --rate-limit-tunes N     answer the next N Tune calls with RESOURCE_EXHAUSTED
  --unavailable-rate R     answer this fraction (0..1) of all calls with UNAVAILABLE
  --fail-next N            the next N tasks fail while in progress
  --stall-next N           the next N tasks never progress (see --stall-in)
  --stall-in STATUS        PENDING or IN_PROGRESS (default IN_PROGRESS)
  --refuse-validations N   the next N Validate calls refuse a well-formed dataset (row numbers)
  --dataset-quota N        datasets one folder may hold (default 10, as at Yandex)
  --draft-rpcs             implement CreateDraft/TuneDraft/DeleteDraft (default: UNIMPLEMENTED,
                           as upstream)

Faults can also be switched at run time: POST /emulator/faults on the upload port with the same
settings as JSON ({"rateLimitTunes":1,"unavailableRate":0.1,"failNextTasks":1,"stallNextTasks":1,
"stallIn":"PENDING","loseNextTuneResponses":1,"refuseNextValidations":1}); GET /emulator/tasks, GET /emulator/stats and
POST /emulator/reset help tests.`;

function number(value: string | undefined, name: string, check: (n: number) => boolean): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || !check(parsed)) throw new Error(`invalid --${name}: ${value}`);
  return parsed;
}

/** Parses the yandex emulator's options; throws with a message naming the bad option. */
export function parseYandexEmulatorArgs(args: string[]): YandexEmulatorOptions | 'help' {
  const { values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '8091' },
      'upload-port': { type: 'string', default: '8092' },
      host: { type: 'string', default: '127.0.0.1' },
      'task-seconds': { type: 'string' },
      'validate-ms': { type: 'string' },
      'describe-delay-ms': { type: 'string' },
      'rate-limit-tunes': { type: 'string' },
      'unavailable-rate': { type: 'string' },
      'fail-next': { type: 'string' },
      'stall-next': { type: 'string' },
      'stall-in': { type: 'string' },
      'refuse-validations': { type: 'string' },
      'dataset-quota': { type: 'string' },
      'draft-rpcs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const isCount = (n: number) => Number.isInteger(n) && n >= 0;
  const isPort = (n: number) => isCount(n) && n < 65536;
  const stallIn = values['stall-in'];
  if (stallIn !== undefined && stallIn !== 'PENDING' && stallIn !== 'IN_PROGRESS') {
    throw new Error(`invalid --stall-in: ${stallIn}`);
  }
  const faults = {
    rateLimitTunes: number(values['rate-limit-tunes'], 'rate-limit-tunes', isCount),
    unavailableRate: number(values['unavailable-rate'], 'unavailable-rate', (n) => n >= 0 && n <= 1),
    failNextTasks: number(values['fail-next'], 'fail-next', isCount),
    stallNextTasks: number(values['stall-next'], 'stall-next', isCount),
    stallIn,
    refuseNextValidations: number(values['refuse-validations'], 'refuse-validations', isCount),
  };
  const options: YandexEmulatorOptions = {
    port: number(values.port, 'port', isPort),
    uploadPort: number(values['upload-port'], 'upload-port', isPort),
    host: values.host,
    faults: Object.fromEntries(Object.entries(faults).filter(([, value]) => value !== undefined)),
  };
  const taskSeconds = number(values['task-seconds'], 'task-seconds', (n) => n >= 0);
  const validateMs = number(values['validate-ms'], 'validate-ms', (n) => n >= 0);
  const describeDelayMs = number(values['describe-delay-ms'], 'describe-delay-ms', (n) => n >= 0);
  if (taskSeconds !== undefined) options.taskSeconds = taskSeconds;
  if (validateMs !== undefined) options.validateMs = validateMs;
  if (describeDelayMs !== undefined) options.describeDelayMs = describeDelayMs;
  const datasetQuota = number(values['dataset-quota'], 'dataset-quota', (n) => Number.isInteger(n) && n > 0);
  if (datasetQuota !== undefined) options.datasetQuota = datasetQuota;
  if (values['draft-rpcs']) options.draftRpcs = true;
  return options;
}

export async function runYandexEmulator(args: string[]): Promise<number> {
  let options: ReturnType<typeof parseYandexEmulatorArgs>;
  try {
    options = parseYandexEmulatorArgs(args);
  } catch (error) {
    console.error(`tunedrop emulator: ${(error as Error).message}\n\n${yandexUsage}`);
    return 2;
  }
  if (options === 'help') {
    console.log(yandexUsage);
    return 0;
  }
  let running: Awaited<ReturnType<typeof startYandexEmulator>>;
  try {
    running = await startYandexEmulator({ ...options, logger: createLogger('yandex-emulator') });
  } catch (error) {
    console.error(`tunedrop emulator: cannot start: ${(error as Error).message}`);
    return 2;
  }
  console.log(`Yandex AI Studio emulator: gRPC on ${running.endpoint}, uploads on ${running.uploadUrl}`);
  console.log(
    `Point tunedrop at it with TUNEDROP_YANDEX_ENDPOINT=${running.endpoint} TUNEDROP_YANDEX_PLAINTEXT=true`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.close();
  return 0;
}
