import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  LIST_FILTER_MODES,
  type ListFilterMode,
  startVertexEmulator,
} from '../../local/vertex-emulator/index.ts';
import { createLogger } from '../../shared/logging/index.ts';
import { loadCatalog } from '../../shared/models/index.ts';
import { parseErrorMessage, printUsageError } from '../lib/usage.ts';
import { runYandexEmulator } from './emulator-yandex.ts';
import type { Command } from './index.ts';

const usage = `Usage: tunedrop emulator vertex [options]
       tunedrop emulator yandex [options]   (see tunedrop emulator yandex --help)

Runs the Vertex AI tuning API emulator (REST v1 projects.locations.tuningJobs) until interrupted.

Options:
  --port N                 port to listen on (default 8090; 0 picks a free one)
  --host HOST              interface to bind (default 127.0.0.1)
  --job-seconds S          time from create to JOB_STATE_SUCCEEDED (default 10)
  --bucket-dir DIR         folder standing in for buckets: gs://BUCKET/path -> DIR/path
                           (default: $TUNEDROP_BUCKET_DIR)
  --rate-limit-creates N   answer the next N creates with 429 RESOURCE_EXHAUSTED
  --unavailable-rate R     answer this fraction (0..1) of all calls with 503 UNAVAILABLE
  --fail-next N            the next N jobs fail while running
  --stall-next N           the next N jobs never progress (see --stall-in)
  --stall-in STATE         PENDING or RUNNING (default RUNNING)
  --max-running N          the project's concurrent tuning jobs quota: a create while N jobs
                           have not ended answers 429 RESOURCE_EXHAUSTED (default: no limit)
  --list-filter MODE       how much of tuningJobs.list's filter is honoured: full (labels, state,
                           create_time), state-only, or none; the rest answers 400 (default full)

Models (retirements, adapter sizes, token limits) come from tunedrop's model catalog, with the
override named by $TUNEDROP_MODEL_CATALOG (a JSON file) merged over it.

Faults can also be switched at run time: POST /emulator/faults with the same settings as JSON
({"rateLimitCreates":2,"unavailableRate":0.1,"failNextJobs":1,"stallNextJobs":1,"stallIn":"PENDING"});
GET /emulator/jobs, GET /emulator/stats and POST /emulator/reset help tests.`;

function number(value: string | undefined, name: string, check: (n: number) => boolean): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || !check(parsed)) throw new Error(`invalid --${name}: ${value}`);
  return parsed;
}

export const emulator: Command = {
  async run(args) {
    // The emulator's name comes first (`tunedrop emulator yandex --port 8091`); an option value
    // that happens to read "yandex" (a --bucket-dir, say) must not pick the Yandex emulator.
    if (args[0] === 'yandex') return runYandexEmulator(args);
    let parsed: ReturnType<typeof parse>;
    function parse() {
      return parseArgs({
        args,
        allowPositionals: true,
        options: {
          port: { type: 'string', default: '8090' },
          host: { type: 'string', default: '127.0.0.1' },
          'job-seconds': { type: 'string' },
          'bucket-dir': { type: 'string' },
          'rate-limit-creates': { type: 'string' },
          'unavailable-rate': { type: 'string' },
          'fail-next': { type: 'string' },
          'stall-next': { type: 'string' },
          'stall-in': { type: 'string' },
          'max-running': { type: 'string' },
          'list-filter': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    }
    try {
      parsed = parse();
    } catch (error) {
      return printUsageError('tunedrop emulator', parseErrorMessage(error), usage);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (positionals.length !== 1 || positionals[0] !== 'vertex') {
      return printUsageError(
        'tunedrop emulator',
        positionals.length === 0
          ? 'missing emulator name (vertex or yandex)'
          : `unknown emulator "${positionals.join(' ')}"; known: vertex, yandex`,
        usage,
      );
    }
    const isCount = (n: number) => Number.isInteger(n) && n >= 0;
    let options: Parameters<typeof startVertexEmulator>[0];
    try {
      const stallIn = values['stall-in'];
      if (stallIn !== undefined && stallIn !== 'PENDING' && stallIn !== 'RUNNING') {
        throw new Error(`invalid --stall-in: ${stallIn}`);
      }
      const listFilter = values['list-filter'];
      if (listFilter !== undefined && !(LIST_FILTER_MODES as readonly string[]).includes(listFilter)) {
        throw new Error(`invalid --list-filter: ${listFilter} (expected ${LIST_FILTER_MODES.join(', ')})`);
      }
      const maxRunning = number(values['max-running'], 'max-running', (n) => Number.isInteger(n) && n > 0);
      const faults = {
        rateLimitCreates: number(values['rate-limit-creates'], 'rate-limit-creates', isCount),
        unavailableRate: number(values['unavailable-rate'], 'unavailable-rate', (n) => n >= 0 && n <= 1),
        failNextJobs: number(values['fail-next'], 'fail-next', isCount),
        stallNextJobs: number(values['stall-next'], 'stall-next', isCount),
        stallIn,
      };
      options = {
        port: number(values.port, 'port', (n) => isCount(n) && n < 65536),
        host: values.host,
        jobSeconds: number(values['job-seconds'], 'job-seconds', (n) => n >= 0),
        bucketDir: values['bucket-dir'] ?? process.env.TUNEDROP_BUCKET_DIR,
        faults: Object.fromEntries(Object.entries(faults).filter(([, value]) => value !== undefined)),
        logger: createLogger('vertex-emulator'),
        ...(maxRunning !== undefined ? { maxRunning } : {}),
        ...(listFilter !== undefined ? { listFilter: listFilter as ListFilterMode } : {}),
      };
    } catch (error) {
      return printUsageError('tunedrop emulator', parseErrorMessage(error), usage);
    }
    let running: Awaited<ReturnType<typeof startVertexEmulator>>;
    try {
      options.catalog = await loadCatalog({
        overrideSource: process.env.TUNEDROP_MODEL_CATALOG,
        readText: (source) => readFile(source, 'utf8'),
      });
      running = await startVertexEmulator(options);
    } catch (error) {
      console.error(`tunedrop emulator: cannot start: ${(error as Error).message}`);
      return 2;
    }
    console.log(`Vertex AI emulator listening on ${running.url}`);
    console.log(`Point tunedrop at it with TUNEDROP_VERTEX_ENDPOINT=${running.url}`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await running.close();
    return 0;
  },
};
