/**
 * `tunedrop jobs list|get|approve|cancel|replay`: see and steer jobs through the admin API.
 * Exit codes: 0 ok, 1 the API said no (not found, not allowed in this state), 2 usage or I/O.
 */
import { parseArgs } from 'node:util';
import {
  type ApiClient,
  createApiClient,
  describeError,
  exitCodeFor,
  type JobView,
  resolveApiUrl,
} from '../lib/api-client.ts';
import {
  defaultDetailFields,
  defaultListFields,
  jobFields,
  parseFields,
  pickFields,
  renderDetail,
  renderTable,
  UnknownFieldError,
} from '../lib/job-fields.ts';
import type { Command } from './index.ts';
import { ContinueUsageError, continueJobCommand } from './jobs-continue.ts';

const usage = `Usage: tunedrop jobs <subcommand> [options]

Subcommands:
  list                 list jobs, newest first
  get ID               show one job
  approve ID           approve a DRAFT job, which starts it
  cancel ID            cancel a job
  replay ID            re-publish the job's events with their original ids
  continue ID          tune a SUCCEEDED job's tuned model further on new data (continuous tuning)

Options:
  --api URL            the admin API (default: $TUNEDROP_API_URL, else http://127.0.0.1:8084);
                       an https URL is called with your Google ID token
  --json               JSON output, for scripts
  --fields A,B,...     columns to show: ${Object.keys(jobFields).join(', ')}
list:
  --state STATE        only jobs in this state (repeatable, or comma-separated)
  --label KEY=VALUE    only jobs with this label (repeatable)
  --page-size N        jobs per page (1-500, default 50)
  --page-token TOKEN   the page after a previous one
  --all                follow every page
approve:
  --by NAME            who approves, when the API cannot tell from your credentials
cancel:
  --reason TEXT        kept in the job's history
continue:
  --dataset PATH|gs:// the new training data (a local file is uploaded next to the manifest)
  --validation-dataset PATH|gs://
  --checkpoint ID      start from this checkpoint of the job (default: its default one)
  --epochs N  --display-name NAME  --last-checkpoint-only
  --bucket gs://B | --bucket-dir DIR   where a local file goes (as for tunedrop submit)`;

const options = {
  api: { type: 'string' },
  json: { type: 'boolean', default: false },
  fields: { type: 'string' },
  state: { type: 'string', multiple: true },
  label: { type: 'string', multiple: true },
  'page-size': { type: 'string' },
  'page-token': { type: 'string' },
  all: { type: 'boolean', default: false },
  by: { type: 'string' },
  reason: { type: 'string' },
  dataset: { type: 'string' },
  'validation-dataset': { type: 'string' },
  checkpoint: { type: 'string' },
  epochs: { type: 'string' },
  'display-name': { type: 'string' },
  'last-checkpoint-only': { type: 'boolean', default: false },
  bucket: { type: 'string' },
  'bucket-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

class UsageError extends Error {}

const subcommands = ['list', 'get', 'approve', 'cancel', 'replay', 'continue'] as const;
type Subcommand = (typeof subcommands)[number];

const print = (text: string) => console.log(text);
const printJson = (value: unknown) => console.log(JSON.stringify(value, null, 2));

function showJob(job: JobView, values: Values): void {
  const fields = parseFields(values.fields, defaultDetailFields);
  if (values.json) printJson(values.fields ? pickFields(job, fields) : job);
  else print(renderDetail(job, fields));
}

async function list(client: ApiClient, values: Values): Promise<number> {
  const fields = parseFields(values.fields, defaultListFields);
  let pageSize: number | undefined;
  if (values['page-size'] !== undefined) {
    pageSize = Number(values['page-size']);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 500) {
      throw new UsageError('--page-size must be a whole number from 1 to 500');
    }
  }
  const states = (values.state ?? [])
    .flatMap((state) => state.split(','))
    .map((state) => state.trim().toUpperCase());
  const jobs: JobView[] = [];
  let pageToken = values['page-token'];
  let nextPageToken: string | undefined;
  do {
    const page = await client.list({ states, labels: values.label, pageSize, pageToken });
    jobs.push(...page.jobs);
    nextPageToken = page.nextPageToken || undefined;
    pageToken = nextPageToken;
  } while (values.all && pageToken);

  if (values.json) {
    const shown = values.fields ? jobs.map((job) => pickFields(job, fields)) : jobs;
    printJson(nextPageToken ? { jobs: shown, nextPageToken } : { jobs: shown });
    return 0;
  }
  if (jobs.length === 0) console.error('No jobs.');
  else print(renderTable(jobs, fields));
  if (nextPageToken) console.error(`More jobs: --page-token ${nextPageToken} (or --all)`);
  return 0;
}

async function run(subcommand: Subcommand, client: ApiClient, id: string | undefined, values: Values) {
  if (subcommand === 'list') return list(client, values);
  if (!id) throw new UsageError(`tunedrop jobs ${subcommand} needs a job id`);
  // Fail on a bad --fields before changing anything.
  parseFields(values.fields, defaultDetailFields);
  switch (subcommand) {
    case 'get':
      showJob(await client.get(id), values);
      return 0;
    case 'approve': {
      const job = await client.approve(id, values.by);
      if (!values.json) console.error(`Approved job ${job.id}; it is now ${job.state}.`);
      showJob(job, values);
      return 0;
    }
    case 'cancel': {
      const job = await client.cancel(id, values.reason);
      if (!values.json) {
        console.error(
          job.state === 'CANCELLING'
            ? `Cancel requested for job ${job.id}; the provider is stopping it.`
            : `Job ${job.id} is ${job.state}.`,
        );
      }
      showJob(job, values);
      return 0;
    }
    case 'continue':
      return continueJobCommand(client, id, values);
    case 'replay': {
      const result = await client.replay(id);
      if (values.json) printJson(result);
      else {
        console.error(`Re-published ${result.eventIds.length} event(s) of job ${result.jobId}:`);
        for (const eventId of result.eventIds) print(eventId);
      }
      return 0;
    }
  }
}

export const jobs: Command = {
  summary: 'list, show, approve, cancel, continue jobs and replay their events (admin API)',
  async run(args) {
    let parsed: { values: Values; positionals: string[] };
    try {
      parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    } catch (error) {
      console.error(`tunedrop jobs: ${(error as Error).message}\n\n${usage}`);
      return 2;
    }
    const { values, positionals } = parsed;
    const [subcommand, id, ...extra] = positionals;
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (!subcommand || !subcommands.includes(subcommand as Subcommand)) {
      console.error(
        `tunedrop jobs: ${subcommand ? `unknown subcommand "${subcommand}"` : 'missing subcommand'}\n\n${usage}`,
      );
      return 2;
    }
    if (extra.length > 0 || (subcommand === 'list' && id !== undefined)) {
      console.error(`tunedrop jobs ${subcommand}: unexpected argument "${extra[0] ?? id}"`);
      return 2;
    }
    const client = createApiClient({ baseUrl: resolveApiUrl(values.api, process.env) });
    try {
      return await run(subcommand as Subcommand, client, id, values);
    } catch (error) {
      if (
        error instanceof UsageError ||
        error instanceof UnknownFieldError ||
        error instanceof ContinueUsageError
      ) {
        console.error(`tunedrop jobs ${subcommand}: ${error.message}`);
        return 2;
      }
      console.error(`tunedrop jobs ${subcommand}: ${describeError(error)}`);
      return exitCodeFor(error);
    }
  },
};
