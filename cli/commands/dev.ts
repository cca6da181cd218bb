import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import {
  createFunctionLogSink,
  formatDeadLetterLine,
  formatEventLine,
  formatLogLine,
} from '../../local/console.ts';
import { resolveDevSettings } from '../../local/dev-options.ts';
import { describePorts, resolvePorts } from '../../local/ports.ts';
import {
  installShutdownHandlers,
  killRegisteredProcessGroupsSync,
  refuseNewProcessGroups,
  stopRegisteredProcessGroups,
} from '../../local/process-group.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { createLogger } from '../../shared/logging/index.ts';
import { displayUrl } from '../lib/api-client.ts';
import { withLocalReportPath } from '../lib/local-paths.ts';
import { parseErrorMessage, printUsageError } from '../lib/usage.ts';
import type { Command } from './index.ts';

const help = `Usage: tunedrop dev [options]   (also: npm start -- [options])

Runs the whole pipeline locally on the Google Cloud emulators and tunedrop's Vertex AI emulator.

Options:
  --bucket-dir DIR        folder standing in for the bucket (default .tunedrop/bucket)
  --webhook URL           deliver events to this receiver (repeatable)
  --webhook-secret SECRET its whsec_ secret, in the same order as --webhook (repeatable)
  --webhook-secret-file F a file holding that secret instead, so it is not on the command line
  --fresh                 start with no jobs, instead of what the last run on this bucket folder saved
  --poll-seconds N        how often the scheduler stand-in calls poll-jobs (default 5)
  --job-seconds N         how long an emulated tuning job runs (default 10)
  --approval MODE         auto | manual (default: TUNEDROP_APPROVAL from .env, else auto)
  --port-base N           shift every port: N+1 ingest-dataset ... N+10 Vertex AI, N+11 and N+12 Yandex emulators
                          (default 8080: ports 8081-8086 and 8090-8092)
  --free-ports            let the system pick a free port for every part (for tests, parallel runs)
  --vertex-max-running N  the Vertex AI emulator's concurrent tuning jobs quota: creates beyond it
                          answer 429 RESOURCE_EXHAUSTED (default: no limit)
  --vertex-list-filter M  full | state-only | none: how much of tuningJobs.list's filter the
                          Vertex AI emulator honours; the rest answers 400 (default full)

A .env file in the current folder may set TUNEDROP_WEBHOOK_URL and TUNEDROP_WEBHOOK_SECRET (one
receiver) and any TUNEDROP_* setting the functions read; flags win over .env.`;

function readDotEnv(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
}

/** How long a stop requested during start-up waits for the start to unwind before forcing it. */
const startupUnwindMs = 15_000;

export const dev: Command = {
  async run(args) {
    let values: ReturnType<typeof parse>['values'];
    function parse() {
      // No defaults here: resolveDevSettings must tell an explicit flag from an absent one.
      return parseArgs({
        args,
        options: {
          'bucket-dir': { type: 'string' },
          webhook: { type: 'string', multiple: true },
          'webhook-secret': { type: 'string', multiple: true },
          'webhook-secret-file': { type: 'string', multiple: true },
          fresh: { type: 'boolean' },
          'poll-seconds': { type: 'string' },
          'job-seconds': { type: 'string' },
          approval: { type: 'string' },
          'port-base': { type: 'string' },
          'free-ports': { type: 'boolean' },
          'vertex-max-running': { type: 'string' },
          'vertex-list-filter': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    }
    try {
      values = parse().values;
    } catch (error) {
      return printUsageError('tunedrop dev', parseErrorMessage(error), help);
    }
    if (values.help) {
      console.log(help);
      return 0;
    }
    const resolved = resolveDevSettings(values, readDotEnv(resolve('.env')), (path) =>
      readFileSync(path, 'utf8'),
    );
    if (!resolved.ok) {
      return printUsageError('tunedrop dev', resolved.message, help);
    }
    const settings = resolved.settings;
    for (const notice of settings.notices) console.error(`tunedrop dev: ${notice}`);

    // Installed before anything starts, so Ctrl-C during start-up stops what has started.
    const startup = new AbortController();
    let requestStop: () => void = () => {};
    const stopRequested = new Promise<void>((resolveStop) => {
      requestStop = resolveStop;
    });
    let running = false;
    const handlers = installShutdownHandlers(() => {
      console.log('\nStopping tunedrop...');
      if (!running) {
        // Still starting: abort the start and kill the children it has spawned so far (an
        // emulator still booting would otherwise keep the start waiting for it).
        startup.abort(new Error('stopped while starting'));
        refuseNewProcessGroups();
        void stopRegisteredProcessGroups();
      }
      requestStop();
    });

    // The stack's own notices, for a person: time, severity, message; never a stack trace.
    const logSink = createFunctionLogSink(resolve('.tunedrop/logs'));
    // Kept in .tunedrop/logs/local-stack.log too, with the rest.
    const logger = createLogger('local-stack', {
      level: 'INFO',
      write: (line) => {
        logSink('local-stack', line);
        console.error(formatLogLine(line));
      },
    });
    const consoleContext = { bucket: 'tunedrop-local', bucketDir: resolve(settings.bucketDir) };
    let apiUrl = '';
    let stack: LocalStack;
    try {
      const ports = await resolvePorts(settings.ports);
      console.log('Starting tunedrop locally: emulators, Vertex AI emulator, functions...');
      console.log(`Ports: ${describePorts(ports)}`);
      const starting = startLocalStack({
        bucketDir: settings.bucketDir,
        fresh: settings.fresh,
        ports,
        pollSeconds: settings.pollSeconds,
        jobSeconds: settings.jobSeconds,
        vertex: settings.vertex,
        webhooks: settings.webhooks,
        env: settings.env,
        logger,
        signal: startup.signal,
        onEvent: (event) =>
          console.log(formatEventLine(withLocalReportPath(event, settings.bucketDir), consoleContext)),
        onDeadLetter: (event) => console.log(formatDeadLetterLine(event, apiUrl)),
        onFunctionLine: (target, line) => {
          const shown = logSink(target, line);
          if (shown) console.error(shown);
        },
      });
      // A stop during start-up waits for the start to unwind, but not forever: a client call to
      // an emulator that was just killed can retry for minutes.
      const gaveUp = stopRequested.then(
        () => new Promise<'gave-up'>((give) => setTimeout(() => give('gave-up'), startupUnwindMs).unref()),
      );
      const outcome = await Promise.race([starting, gaveUp]);
      if (outcome !== 'gave-up' && startup.signal.aborted) await outcome.stop();
      if (outcome === 'gave-up' || startup.signal.aborted) throw startup.signal.reason;
      stack = outcome;
      apiUrl = stack.urls.api;
    } catch (error) {
      if (startup.signal.aborted) {
        await stopRegisteredProcessGroups();
        killRegisteredProcessGroupsSync();
        handlers.dispose();
        console.log('Stopped before tunedrop finished starting.');
        // In-process servers of an unwound start may still hold the event loop.
        setTimeout(() => process.exit(), 2000).unref();
        return 130;
      }
      handlers.dispose();
      console.error(`tunedrop dev: ${(error as Error).message}`);
      return 2;
    }
    running = true;

    const webhookList = settings.webhooks.map((hook) => displayUrl(hook.url)).join(', ');
    const stateLine = {
      restored: `restored from the last run on this bucket folder (${stack.state.dir}); --fresh starts empty`,
      new: `new (nothing saved for this bucket folder yet); kept in ${stack.state.dir}`,
      fresh: `empty (--fresh); kept in ${stack.state.dir}, replacing what was saved`,
    }[stack.state.origin];
    console.log(`
tunedrop is running.
  Drop a dataset:   cp my-data.jsonl ${join(stack.bucketDir, 'incoming')}/
  Or submit one:    npx tunedrop submit my-data.jsonl --bucket-dir ${stack.bucketDir}
  Jobs:             npx tunedrop jobs list --api ${stack.urls.api}
  API:              ${stack.urls.api} (local only: loopback, no authentication)
  Job state:        ${stateLine}
  Vertex emulator:  ${stack.urls.vertex}
  Yandex emulator:  ${stack.urls.yandex} (gRPC; uploads on port ${stack.ports.yandexUpload})
  Approval:         ${settings.approval}
  Function logs:    .tunedrop/logs/
  Webhooks:         ${webhookList || 'none (add --webhook URL --webhook-secret whsec_...)'}
Press Ctrl-C to stop. Job events appear below as they happen.
`);

    await stopRequested;
    await stack.stop();
    killRegisteredProcessGroupsSync();
    handlers.dispose();
    console.log('Stopped.');
    return 0;
  },
};
