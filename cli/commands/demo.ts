import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { createFunctionLogSink, formatEventLine } from '../../local/console.ts';
import { repoRoot } from '../../local/function-processes.ts';
import { type PortChoice, resolvePorts } from '../../local/ports.ts';
import {
  installShutdownHandlers,
  killRegisteredProcessGroupsSync,
  refuseNewProcessGroups,
  stopRegisteredProcessGroups,
} from '../../local/process-group.ts';
import { startLocalStack } from '../../local/stack.ts';
import { LIST_FILTER_MODES, type ListFilterMode } from '../../local/vertex-emulator/index.ts';
import { createLogger } from '../../shared/logging/index.ts';
import { withLocalReportPath } from '../lib/local-paths.ts';
import { parseErrorMessage, printUsageError } from '../lib/usage.ts';
import type { Command } from './index.ts';

/** What the demo tunes unless told otherwise: a model people tune today. */
const demoModel = 'gemini-3.5-flash';

const help = `Usage: tunedrop demo [options]   (also: npm run demo -- [options])

Starts the local stack, drops a bundled sample dataset into the bucket folder, waits until the
job.succeeded webhook reaches a receiver the demo runs itself, verifies its signature as any
Standard Webhooks receiver would, then keeps the receiver up for a settle period and checks that
exactly one job.succeeded (one webhook-id; redeliveries of it are fine) arrived. Prints the event
and the count and exits 0; non-zero, with the reason, on timeout or a count other than 1.

Options:
  --provider NAME       vertex (default: the Gemini sample as a single-file drop) or yandex (the
                        same sample in Yandex AI Studio's format, with a tuning.json manifest
                        asking for yandexgpt-lite, run on the Yandex AI Studio emulator)
  --timeout-seconds N   how long to wait for job.succeeded (default 180)
  --port-base N         shift every port of the stack (default 8080: ports 8081-8086, 8090-8092)
  --free-ports          let the system pick a free port for every part (for tests, parallel runs)
  --model ID            the base model to tune (default ${demoModel})
  --vertex-list-filter MODE   how much of a tuningJobs.list filter the Vertex AI emulator honours:
                        full (default), state-only or none; tunedrop falls back on its own`;

/** The demo's scheduler period; the settle period after job.succeeded is derived from it. */
const pollSeconds = 2;
/** Two polls and a margin: long enough for a duplicate publish to reach the receiver. */
const settleMs = 2 * pollSeconds * 1000 + 3000;

interface Received {
  headers: Record<string, string>;
  body: string;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** A webhook receiver like a user's own: answers 204 and hands every delivery to `onDelivery`. */
async function startReceiver(onDelivery: (delivery: Received) => void) {
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([key, value]) => [key, String(value)]),
    ) as Record<string, string>;
    response.writeHead(204).end();
    onDelivery({ headers, body });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/tunedrop-webhook`, close: () => server.close() };
}

/** The manifest the Yandex demo drops beside its dataset: what a user of Yandex AI Studio writes. */
export const yandexDemoManifest = {
  provider: 'yandex',
  baseModel: 'yandexgpt-lite',
  trainingDataset: 'support-answers.jsonl',
  tunedModelDisplayName: 'support answers',
  yandex: { lr: 0.0002, nSamples: 200, lora: { rank: 8, alpha: 16 } },
};

/** Dataset first, manifest last (each one complete write): the manifest's upload starts the job. */
function dropYandexSample(bucketDir: string): void {
  const folder = join(bucketDir, 'incoming/yandex-demo');
  mkdirSync(folder, { recursive: true });
  const datasetStaging = join(bucketDir, '.yandex-support-answers.jsonl.tmp');
  copyFileSync(join(repoRoot, 'local/sample/support-answers.yandex.jsonl'), datasetStaging);
  renameSync(datasetStaging, join(folder, 'support-answers.jsonl'));
  const manifestStaging = join(bucketDir, '.yandex-tuning.json.tmp');
  writeFileSync(manifestStaging, `${JSON.stringify(yandexDemoManifest, null, 2)}\n`);
  renameSync(manifestStaging, join(folder, 'tuning.json'));
}

export const demo: Command = {
  async run(args) {
    let timeoutSeconds: number;
    let provider: 'vertex' | 'yandex' = 'vertex';
    let portChoice: PortChoice = { kind: 'default' };
    let model = demoModel;
    let listFilter: ListFilterMode = 'full';
    try {
      const { values } = parseArgs({
        args,
        options: {
          'timeout-seconds': { type: 'string', default: '180' },
          provider: { type: 'string', default: 'vertex' },
          'port-base': { type: 'string' },
          'free-ports': { type: 'boolean' },
          model: { type: 'string' },
          'vertex-list-filter': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
      if (values.model !== undefined) model = values.model;
      const mode = values['vertex-list-filter'];
      if (mode !== undefined) {
        if (!(LIST_FILTER_MODES as readonly string[]).includes(mode)) {
          throw new Error(`--vertex-list-filter must be one of ${LIST_FILTER_MODES.join(', ')}`);
        }
        listFilter = mode as ListFilterMode;
      }
      if (values.help) {
        console.log(help);
        return 0;
      }
      if (values.provider !== 'vertex' && values.provider !== 'yandex') {
        throw new Error(`--provider must be vertex or yandex, got "${values.provider}"`);
      }
      provider = values.provider;
      timeoutSeconds = Number(values['timeout-seconds']);
      if (!(timeoutSeconds > 0)) throw new Error('--timeout-seconds must be a positive number');
      if (values['free-ports'] && values['port-base'] !== undefined) {
        throw new Error('give either --free-ports or --port-base, not both');
      }
      if (values['free-ports']) portChoice = { kind: 'free' };
      if (values['port-base'] !== undefined) portChoice = { kind: 'base', base: Number(values['port-base']) };
    } catch (error) {
      return printUsageError('tunedrop demo', parseErrorMessage(error), help);
    }

    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const verifier = new Webhook(secret);
    let resolveSucceeded: (event: unknown) => void = () => {};
    let rejectSucceeded: (error: Error) => void = () => {};
    const succeeded = new Promise<unknown>((resolveEvent, reject) => {
      resolveSucceeded = resolveEvent;
      rejectSucceeded = reject;
    });
    // Distinct webhook-ids of job.succeeded: one logical event; its redeliveries share the id.
    const succeededIds = new Set<string>();
    let succeededDeliveries = 0;
    const receiver = await startReceiver(({ headers, body }) => {
      try {
        const payload = verifier.verify(body, headers) as { type?: string };
        console.log(`webhook received and verified: ${payload.type} (webhook-id ${headers['webhook-id']})`);
        if (payload.type === 'tunedrop.v1.job.succeeded') {
          succeededIds.add(String(headers['webhook-id']));
          succeededDeliveries++;
          resolveSucceeded(payload);
        }
      } catch (error) {
        rejectSucceeded(
          new Error(`a webhook arrived with a signature that does not verify: ${(error as Error).message}`),
        );
      }
    });

    const bucketDir = mkdtempSync(join(tmpdir(), 'tunedrop-demo-bucket-'));
    const logDir = resolve('.tunedrop/logs/demo');
    const logSink = createFunctionLogSink(logDir);
    const logger = createLogger('demo', { level: 'WARNING' });
    let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
    let timer: NodeJS.Timeout | undefined;
    // Ctrl-C at any moment: abort the start or the wait; the finally below stops everything.
    const interrupted = new AbortController();
    const handlers = installShutdownHandlers(() => {
      console.log('\nStopping the demo...');
      interrupted.abort(new Error('interrupted'));
      if (!stack) {
        refuseNewProcessGroups();
        void stopRegisteredProcessGroups();
      }
    });
    const whenInterrupted = new Promise<never>((_, reject) =>
      interrupted.signal.addEventListener('abort', () => reject(interrupted.signal.reason)),
    );
    whenInterrupted.catch(() => {});
    try {
      console.log(
        `Starting the local stack (emulators, Vertex AI emulator with --list-filter ${listFilter}, functions); tuning ${model}...`,
      );
      const starting = startLocalStack({
        bucketDir,
        ports: await resolvePorts(portChoice),
        signal: interrupted.signal,
        pollSeconds,
        jobSeconds: 8,
        webhooks: [{ url: receiver.url, secret }],
        env: { TUNEDROP_APPROVAL: 'auto', TUNEDROP_DEFAULT_BASE_MODEL: model },
        vertex: { listFilter },
        logger,
        onEvent: (event) => console.log(`event: ${formatEventLine(withLocalReportPath(event, bucketDir))}`),
        onFunctionLine: (target, line) => {
          const shown = logSink(target, line);
          if (shown) console.error(shown);
        },
      });
      // A start aborted mid-way can hang in a client call to a killed emulator: do not wait for it.
      stack = await Promise.race([starting, whenInterrupted]);

      // Written beside incoming/ and renamed into it: one complete write, as an upload finalizes.
      if (provider === 'yandex') dropYandexSample(bucketDir);
      else {
        const sample = join(repoRoot, 'local/sample/support-answers.jsonl');
        const staging = join(bucketDir, '.support-answers.jsonl.tmp');
        copyFileSync(sample, staging);
        renameSync(staging, join(bucketDir, 'incoming/support-answers.jsonl'));
      }
      console.log(
        `Dropped the ${provider === 'yandex' ? 'Yandex AI Studio' : 'Vertex AI'} sample into ${join(bucketDir, 'incoming')}; waiting for the job to succeed...`,
      );

      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `no verified job.succeeded webhook within ${timeoutSeconds} s; the functions' logs are in ${logDir}`,
              ),
            ),
          timeoutSeconds * 1000,
        );
      });
      const event = await Promise.race([succeeded, timeout, whenInterrupted]);
      console.log('\njob.succeeded, as delivered and verified:');
      console.log(JSON.stringify(event, null, 2));

      // Keep receiving for a while: a second job or a re-published event with a new id would
      // arrive within a couple of polls.
      console.log(`\nWaiting ${settleMs / 1000} s for any further job.succeeded webhook...`);
      await Promise.race([new Promise((settle) => setTimeout(settle, settleMs)), whenInterrupted]);
      console.log(
        `job.succeeded webhooks received: ${succeededIds.size} distinct webhook-id(s), ${succeededDeliveries} delivery(ies)`,
      );
      if (succeededIds.size !== 1) {
        console.error(
          `tunedrop demo failed: expected exactly 1 job.succeeded webhook, got ${succeededIds.size}`,
        );
        return 1;
      }
      return 0;
    } catch (error) {
      if (interrupted.signal.aborted) {
        console.error('tunedrop demo interrupted');
        return 130;
      }
      console.error(`tunedrop demo failed: ${(error as Error).message}`);
      return 1;
    } finally {
      clearTimeout(timer);
      receiver.close();
      await stack?.stop();
      if (interrupted.signal.aborted) {
        await stopRegisteredProcessGroups();
        // In-process servers of an unwound start may still hold the event loop.
        setTimeout(() => process.exit(), 2000).unref();
      }
      killRegisteredProcessGroupsSync();
      handlers.dispose();
      rmSync(bucketDir, { recursive: true, force: true });
    }
  },
};
