import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { createFunctionLogSink, formatEventLine } from '../../local/console.ts';
import { repoRoot } from '../../local/function-processes.ts';
import { startLocalStack } from '../../local/stack.ts';
import { createLogger } from '../../shared/logging/index.ts';
import type { Command } from './index.ts';

const help = `Usage: tunedrop demo [--timeout-seconds N]   (also: npm run demo)

Starts the local stack, drops a bundled sample dataset into the bucket folder, waits until the
job.succeeded webhook reaches a receiver the demo runs itself, verifies its signature as any
Standard Webhooks receiver would, prints the event and exits 0. Non-zero, with the reason, on
timeout.`;

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

export const demo: Command = {
  summary: 'run the local stack, tune a sample dataset and verify the signed job.succeeded webhook',
  async run(args) {
    let timeoutSeconds: number;
    try {
      const { values } = parseArgs({
        args,
        options: {
          'timeout-seconds': { type: 'string', default: '180' },
          help: { type: 'boolean', short: 'h' },
        },
      });
      if (values.help) {
        console.log(help);
        return 0;
      }
      timeoutSeconds = Number(values['timeout-seconds']);
      if (!(timeoutSeconds > 0)) throw new Error('--timeout-seconds must be a positive number');
    } catch (error) {
      console.error(`tunedrop demo: ${(error as Error).message}\n\n${help}`);
      return 2;
    }

    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const verifier = new Webhook(secret);
    let resolveSucceeded: (event: unknown) => void = () => {};
    let rejectSucceeded: (error: Error) => void = () => {};
    const succeeded = new Promise<unknown>((resolveEvent, reject) => {
      resolveSucceeded = resolveEvent;
      rejectSucceeded = reject;
    });
    const receiver = await startReceiver(({ headers, body }) => {
      try {
        const payload = verifier.verify(body, headers) as { type?: string };
        console.log(`webhook received and verified: ${payload.type} (webhook-id ${headers['webhook-id']})`);
        if (payload.type === 'tunedrop.v1.job.succeeded') resolveSucceeded(payload);
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
    try {
      console.log('Starting the local stack (emulators, Vertex AI emulator, functions)...');
      stack = await startLocalStack({
        bucketDir,
        pollSeconds: 2,
        jobSeconds: 8,
        webhooks: [{ url: receiver.url, secret }],
        env: { TUNEDROP_APPROVAL: 'auto' },
        logger,
        onEvent: (event) => console.log(`event: ${formatEventLine(event)}`),
        onFunctionLine: (target, line) => {
          const shown = logSink(target, line);
          if (shown) console.error(shown);
        },
      });

      // Written beside incoming/ and renamed into it: one complete write, as an upload finalizes.
      const sample = join(repoRoot, 'local/sample/support-answers.jsonl');
      const staging = join(bucketDir, '.support-answers.jsonl.tmp');
      copyFileSync(sample, staging);
      renameSync(staging, join(bucketDir, 'incoming/support-answers.jsonl'));
      console.log(
        `Dropped the sample dataset into ${join(bucketDir, 'incoming')}; waiting for the job to succeed...`,
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
      const event = await Promise.race([succeeded, timeout]);
      console.log('\njob.succeeded, as delivered and verified:');
      console.log(JSON.stringify(event, null, 2));
      return 0;
    } catch (error) {
      console.error(`tunedrop demo failed: ${(error as Error).message}`);
      return 1;
    } finally {
      clearTimeout(timer);
      receiver.close();
      await stack?.stop();
      rmSync(bucketDir, { recursive: true, force: true });
    }
  },
};
