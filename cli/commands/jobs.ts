/**
 * `tunedrop jobs list|get|report|approve|cancel|replay`: see and steer jobs through the admin API.
 * Each subcommand has its own options and `--help`; an option another subcommand takes is a usage
 * error here, not silently ignored. IDs may be any unique prefix of 8+ characters (job-ids.ts).
 * Exit codes: 0 ok, 1 the API said no (not found, not allowed in this state, ambiguous id),
 * 2 usage or I/O.
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
import { JobIdError, minIdPrefix, resolveJobId, shortIdLength } from '../lib/job-ids.ts';
import { renderReport } from '../lib/report-render.ts';
import { parseCommandArgs, printUsageError, UsageError } from '../lib/usage.ts';
import type { Command } from './index.ts';
import { ContinueUsageError, continueJobCommand } from './jobs-continue.ts';

const idHelp = `ID is the job's id or any unique prefix of ${minIdPrefix} or more characters (the console and
tables show ${shortIdLength}); an ambiguous prefix lists the jobs it matches.`;

const common = `  --api URL            the admin API (default: $TUNEDROP_API_URL, else http://127.0.0.1:8084);
                       an https URL is called with your Google ID token
  --json               JSON output, for scripts
  -h, --help           this help`;

/** The field names, wrapped to the width of the rest of the help. */
function wrapped(names: string[], indent: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const name of names) {
    const next = line ? `${line}, ${name}` : name;
    if (indent.length + next.length > width && line) {
      lines.push(`${line},`);
      line = name;
    } else line = next;
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

const fieldsOption = `  --fields A,B,...     what to show, from: ${wrapped(Object.keys(jobFields), ' '.repeat(23))}`;

const stringOption = { type: 'string' } as const;
const flag = { type: 'boolean', default: false } as const;
const commonOptions = { api: stringOption, json: flag, help: { ...flag, short: 'h' } } as const;

interface Subcommand {
  /** One line for `tunedrop jobs --help`. */
  summary: string;
  takesId: boolean;
  usage: string;
  options: Record<
    string,
    { type: 'string' | 'boolean'; multiple?: boolean; short?: string; default?: boolean }
  >;
}

const subcommands = {
  list: {
    summary: 'list jobs, newest first',
    takesId: false,
    usage: `Usage: tunedrop jobs list [options]

Lists jobs, newest first, one line each: id, state, base model, source object, created, progress,
estimate.

Options:
  --state STATE        only jobs in this state (repeatable, or comma-separated)
  --label KEY=VALUE    only jobs with this label (repeatable; all must match)
  --page-size N        jobs per page (1-500, default 50)
  --page-token TOKEN   the page after a previous one
  --all                follow every page
${fieldsOption}
${common}`,
    options: {
      ...commonOptions,
      fields: stringOption,
      state: { type: 'string', multiple: true },
      label: { type: 'string', multiple: true },
      'page-size': stringOption,
      'page-token': stringOption,
      all: flag,
    },
  },
  get: {
    summary: 'show one job',
    takesId: true,
    usage: `Usage: tunedrop jobs get ID [options]

Shows one job. ${idHelp}

Options:
${fieldsOption}
${common}`,
    options: { ...commonOptions, fields: stringOption },
  },
  report: {
    summary: "show the validation report of a job's dataset",
    takesId: true,
    usage: `Usage: tunedrop jobs report ID [options]

Shows the validation report of the job's upload, for a person: the verdict, the first errors with
their line and field, warnings grouped by kind, a histogram of tokens per example and the cost
estimate with its basis. --json prints the report as stored, unchanged. ${idHelp}

Options:
  --errors N           errors to list per dataset (default 10)
${common}`,
    options: { ...commonOptions, errors: stringOption },
  },
  approve: {
    summary: 'approve a DRAFT job, which starts it',
    takesId: true,
    usage: `Usage: tunedrop jobs approve ID [options]

Approves a DRAFT job, which starts it; prints the job. ${idHelp}

Options:
  --by NAME            who approves, when the API cannot tell from your credentials
${fieldsOption}
${common}`,
    options: { ...commonOptions, fields: stringOption, by: stringOption },
  },
  cancel: {
    summary: 'cancel a job',
    takesId: true,
    usage: `Usage: tunedrop jobs cancel ID [options]

Cancels a job: a DRAFT or QUEUED job at once, a running one at the provider. ${idHelp}

Options:
  --reason TEXT        kept in the job's history
${fieldsOption}
${common}`,
    options: { ...commonOptions, fields: stringOption, reason: stringOption },
  },
  replay: {
    summary: "re-publish the job's events with their original ids",
    takesId: true,
    usage: `Usage: tunedrop jobs replay ID [options]

Re-publishes the job's events with their original ids (subscribers deduplicate on them) and
prints those ids. ${idHelp}

Options:
${common}`,
    options: { ...commonOptions },
  },
  continue: {
    summary: "tune a SUCCEEDED job's tuned model further on new data (continuous tuning)",
    takesId: true,
    usage: `Usage: tunedrop jobs continue ID --dataset PATH|gs://... [options]

Starts continuous tuning from the job's tuned model: writes a manifest with preTunedModel into the
bucket's incoming/, so ingest validates the new data against the base model before anything is
spent. ${idHelp}

Options:
  --dataset PATH|gs:// the new training data (a local file is uploaded next to the manifest)
  --validation-dataset PATH|gs://
  --checkpoint ID      start from this checkpoint of the job (default: its default one)
  --epochs N  --display-name NAME  --last-checkpoint-only
  --bucket gs://B | --bucket-dir DIR   where a local file goes (as for tunedrop submit)
${common}`,
    options: {
      ...commonOptions,
      dataset: stringOption,
      'validation-dataset': stringOption,
      checkpoint: stringOption,
      epochs: stringOption,
      'display-name': stringOption,
      'last-checkpoint-only': flag,
      bucket: stringOption,
      'bucket-dir': stringOption,
    },
  },
} satisfies Record<string, Subcommand>;

type SubcommandName = keyof typeof subcommands;

const usage = `Usage: tunedrop jobs <subcommand> [ID] [options]

Subcommands:
${Object.entries(subcommands)
  .map(([name, sub]) => `  ${`${name}${sub.takesId ? ' ID' : ''}`.padEnd(18)} ${sub.summary}`)
  .join('\n')}

${idHelp}
Run \`tunedrop jobs <subcommand> --help\` for its options.`;

// Every option any subcommand takes, only to find the subcommand among the arguments (a value
// such as `--api URL` is not the subcommand).
const allOptions = Object.assign({}, ...Object.values(subcommands).map((sub) => sub.options));

// biome-ignore lint/suspicious/noExplicitAny: each subcommand reads only its own options
type Values = Record<string, any>;

const print = (text: string) => console.log(text);
const printJson = (value: unknown) => console.log(JSON.stringify(value, null, 2));

function showJob(job: JobView, values: Values): void {
  const fields = parseFields(values.fields, defaultDetailFields);
  if (values.json) printJson(values.fields ? pickFields(job, fields) : job);
  else print(renderDetail(job, fields));
}

function count(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) {
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}, got "${value}"`);
  }
  return parsed;
}

async function list(client: ApiClient, values: Values): Promise<number> {
  const fields = parseFields(values.fields, defaultListFields);
  const pageSize =
    values['page-size'] === undefined ? undefined : count(values['page-size'], 'page-size', 50, 500);
  const states = ((values.state ?? []) as string[])
    .flatMap((state) => state.split(','))
    .map((state) => state.trim().toUpperCase());
  const jobs: JobView[] = [];
  let pageToken: string | undefined = values['page-token'];
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

async function withJob(name: SubcommandName, client: ApiClient, typed: string, values: Values) {
  // Fail on bad options before calling the API, let alone changing anything.
  if ('fields' in subcommands[name].options) parseFields(values.fields, defaultDetailFields);
  const errorsShown = name === 'report' ? count(values.errors, 'errors', 10, 1000) : 0;
  const id = await resolveJobId(client, typed);
  switch (name) {
    case 'get':
      showJob(await client.get(id), values);
      return 0;
    case 'report': {
      const report = await client.report(id);
      if (values.json) printJson(report);
      else print(renderReport(report, { jobId: id, errors: errorsShown }));
      return 0;
    }
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
    default:
      throw new UsageError(`tunedrop jobs ${name} takes no ID`);
  }
}

/** The subcommand: the first argument that is neither an option nor an option's value. */
function findSubcommand(args: string[]): { name?: string; index: number } {
  const { tokens } = parseArgs({
    args,
    options: allOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const first = tokens.find((token) => token.kind === 'positional');
  return first ? { name: first.value, index: first.index } : { index: -1 };
}

export const jobs: Command = {
  async run(args) {
    const { name, index } = findSubcommand(args);
    if (name === undefined) {
      if (args.some((arg) => arg === '--help' || arg === '-h')) {
        print(usage);
        return 0;
      }
      return printUsageError('tunedrop jobs', 'missing subcommand', usage);
    }
    if (name === 'help') {
      print(usage);
      return 0;
    }
    if (!(name in subcommands)) {
      return printUsageError('tunedrop jobs', `unknown subcommand "${name}"`, usage);
    }
    const subcommand = name as SubcommandName;
    const spec: Subcommand = subcommands[subcommand];
    const command = `tunedrop jobs ${subcommand}`;
    const rest = [...args.slice(0, index), ...args.slice(index + 1)];

    let values: Values;
    let positionals: string[];
    try {
      ({ values, positionals } = parseCommandArgs(rest, spec.options));
    } catch (error) {
      // `jobs get --state X`: say which subcommand does not take it, then the usage of this one.
      return printUsageError(command, (error as Error).message, spec.usage);
    }
    if (values.help) {
      print(spec.usage);
      return 0;
    }
    const [id, ...extra] = positionals;
    if (spec.takesId && id === undefined) return printUsageError(command, 'missing job ID', spec.usage);
    const unexpected = spec.takesId ? extra[0] : id;
    if (unexpected !== undefined) {
      return printUsageError(command, `unexpected argument "${unexpected}"`, spec.usage);
    }

    const client = createApiClient({ baseUrl: resolveApiUrl(values.api, process.env) });
    try {
      return spec.takesId ? await withJob(subcommand, client, id!, values) : await list(client, values);
    } catch (error) {
      if (
        error instanceof UsageError ||
        error instanceof UnknownFieldError ||
        error instanceof ContinueUsageError
      ) {
        return printUsageError(command, error.message, spec.usage);
      }
      if (error instanceof JobIdError) {
        console.error(`${command}: ${error.message}`);
        return 1;
      }
      console.error(`${command}: ${describeError(error)}`);
      return exitCodeFor(error);
    }
  },
};
