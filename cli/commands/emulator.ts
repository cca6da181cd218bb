import { parseArgs } from 'node:util';
import { startVertexEmulator } from '../../local/vertex-emulator/index.ts';
import { createLogger } from '../../shared/logging/index.ts';
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
  summary: 'run a local emulator (vertex: the Vertex AI tuning API; yandex: Yandex AI Studio tuning)',
  async run(args) {
    if (args.includes('yandex')) return runYandexEmulator(args);
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
          help: { type: 'boolean', short: 'h' },
        },
      });
    }
    try {
      parsed = parse();
    } catch (error) {
      console.error(`tunedrop emulator: ${(error as Error).message}\n\n${usage}`);
      return 2;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (positionals.length !== 1 || positionals[0] !== 'vertex') {
      console.error(`tunedrop emulator: expected "vertex" or "yandex"\n\n${usage}`);
      return 2;
    }
    const isCount = (n: number) => Number.isInteger(n) && n >= 0;
    let options: Parameters<typeof startVertexEmulator>[0];
    try {
      const stallIn = values['stall-in'];
      if (stallIn !== undefined && stallIn !== 'PENDING' && stallIn !== 'RUNNING') {
        throw new Error(`invalid --stall-in: ${stallIn}`);
      }
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
      };
    } catch (error) {
      console.error(`tunedrop emulator: ${(error as Error).message}\n\n${usage}`);
      return 2;
    }
    let running: Awaited<ReturnType<typeof startVertexEmulator>>;
    try {
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
