import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import { createFunctionLogSink, formatEventLine } from '../../local/console.ts';
import { startLocalStack } from '../../local/stack.ts';
import { createLogger } from '../../shared/logging/index.ts';
import { displayUrl } from '../lib/api-client.ts';
import type { Command } from './index.ts';

const help = `Usage: tunedrop dev [options]   (also: npm start -- [options])

Runs the whole pipeline locally on the Google Cloud emulators and tunedrop's Vertex AI emulator.

Options:
  --bucket-dir DIR        folder standing in for the bucket (default .tunedrop/bucket)
  --webhook URL           deliver events to this receiver (repeatable)
  --webhook-secret SECRET its whsec_ secret, in the same order as --webhook (repeatable)
  --poll-seconds N        how often the scheduler stand-in calls poll-jobs (default 5)
  --job-seconds N         how long an emulated tuning job runs (default 10)
  --approval MODE         auto | manual (default auto)

A .env file in the current folder may set TUNEDROP_WEBHOOK_URL and TUNEDROP_WEBHOOK_SECRET (one
receiver) and any TUNEDROP_* setting the functions read.`;

function readDotEnv(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
}

export const dev: Command = {
  summary: 'run tunedrop locally (emulators, functions, bucket folder, scheduler)',
  async run(args) {
    let values: ReturnType<typeof parse>['values'];
    function parse() {
      return parseArgs({
        args,
        options: {
          'bucket-dir': { type: 'string', default: '.tunedrop/bucket' },
          webhook: { type: 'string', multiple: true, default: [] },
          'webhook-secret': { type: 'string', multiple: true, default: [] },
          'poll-seconds': { type: 'string', default: '5' },
          'job-seconds': { type: 'string', default: '10' },
          approval: { type: 'string', default: 'auto' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    }
    try {
      values = parse().values;
    } catch (error) {
      console.error(`tunedrop dev: ${(error as Error).message}\n\n${help}`);
      return 2;
    }
    if (values.help) {
      console.log(help);
      return 0;
    }
    const dotEnv = readDotEnv(resolve('.env'));
    const urls = [...values.webhook, ...(dotEnv.TUNEDROP_WEBHOOK_URL ? [dotEnv.TUNEDROP_WEBHOOK_URL] : [])];
    const secrets = [
      ...values['webhook-secret'],
      ...(dotEnv.TUNEDROP_WEBHOOK_SECRET ? [dotEnv.TUNEDROP_WEBHOOK_SECRET] : []),
    ];
    if (urls.length !== secrets.length) {
      console.error('tunedrop dev: give one --webhook-secret (whsec_...) per --webhook, in the same order');
      return 2;
    }
    const pollSeconds = Number(values['poll-seconds']);
    const jobSeconds = Number(values['job-seconds']);
    if (!(pollSeconds > 0) || !(jobSeconds > 0) || !['auto', 'manual'].includes(values.approval)) {
      console.error(`tunedrop dev: invalid option value\n\n${help}`);
      return 2;
    }
    const passThrough = Object.fromEntries(
      Object.entries(dotEnv).filter(
        ([key]) => key.startsWith('TUNEDROP_') && !key.startsWith('TUNEDROP_WEBHOOK_'),
      ),
    );
    const logger = createLogger('local-stack', { level: 'INFO' });
    const logSink = createFunctionLogSink(resolve('.tunedrop/logs'));

    console.log('Starting tunedrop locally: emulators, Vertex AI emulator, functions...');
    let stack: Awaited<ReturnType<typeof startLocalStack>>;
    try {
      stack = await startLocalStack({
        bucketDir: values['bucket-dir'],
        pollSeconds,
        jobSeconds,
        webhooks: urls.map((url, index) => ({ url, secret: secrets[index]! })),
        env: { TUNEDROP_APPROVAL: values.approval, ...passThrough },
        logger,
        onEvent: (event) => console.log(formatEventLine(event)),
        onFunctionLine: (target, line) => {
          const shown = logSink(target, line);
          if (shown) console.error(shown);
        },
      });
    } catch (error) {
      console.error(`tunedrop dev: ${(error as Error).message}`);
      return 2;
    }

    console.log(`
tunedrop is running.
  Drop a dataset:   cp my-data.jsonl ${join(stack.bucketDir, 'incoming')}/
  Or submit one:    npx tunedrop submit my-data.jsonl --bucket-dir ${stack.bucketDir}
  Jobs:             npx tunedrop jobs list            (API ${stack.urls.api})
  Vertex emulator:  ${stack.urls.vertex}
  Function logs:    .tunedrop/logs/
  Webhooks:         ${urls.length ? urls.map(displayUrl).join(', ') : 'none (add --webhook URL --webhook-secret whsec_...)'}
Press Ctrl-C to stop. Job events appear below as they happen.
`);

    await new Promise<void>((resolveStop) => {
      const onSignal = () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolveStop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    console.log('\nStopping tunedrop...');
    await stack.stop();
    console.log('Stopped.');
    return 0;
  },
};
