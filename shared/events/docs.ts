/**
 * Renders docs/events.md from the schemas, the transition mapping and example events built by the
 * same code that builds real ones (so every example is valid by construction). Pure and
 * deterministic: a unit test re-renders it and fails when the committed file is stale.
 */
import { z } from 'zod';
import { type JobRecord, type JobState, jobIdFor, jobStates } from '../jobs/model.ts';
import { canTransition } from '../jobs/state-machine.ts';
import { buildDatasetRejectedEvent, eventTypeForTransition, pubsubAttributes } from './build.ts';
import { applyTransition, markStalled, maxOutboxEntries, withCreationEvent } from './outbox.ts';
import {
  type CloudEvent,
  CloudEventEnvelope,
  type EventType,
  eventCatalog,
  eventTypes,
  maxErrorsInEvent,
  versioningRules,
} from './schemas.ts';

export const eventsDocPath = 'docs/events.md';
export const eventsDocCommand = 'npm run docs:events';

/** Descriptions for nested fields whose shared schemas (shared/jobs/model.ts) carry none. */
const fieldNotes: Record<string, string> = {
  'source.bucket': 'Bucket of the uploaded object.',
  'source.object': 'Object name (the JSONL file, or the `tuning.json` manifest).',
  'source.generation': 'Object generation: a re-upload of the same name is a new job.',
  'source.manifest': 'True when the job came from a `tuning.json` manifest.',
  'spec.labels': 'Labels from the manifest, also set on the provider job.',
  'approval.required': 'True when the job needed (or needs) an approval before starting.',
  'approval.reason':
    'Why a person must approve: manual policy, over budget, or over TUNEDROP_AUTO_APPROVE_MAX_USD.',
  'estimate.costUsd': 'Estimated cost in USD.',
  'estimate.method': 'How billable tokens were obtained (`counted`, `sampled`, `bound`).',
  'progress.currentStep': 'Steps done.',
  'progress.totalSteps': 'Steps in all.',
  'error.code': 'Provider error code (e.g. gRPC status) or a tunedrop code.',
  'error.details': 'Field violations and other details as the provider gave them.',
  'history[].state': 'A state the job entered.',
  'history[].time': 'When it entered it.',
  'history[].reason': 'Why, in a few words.',
};

interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  description?: string;
}

function typeName(schema: JsonSchema): string {
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.enum) return schema.enum.map((value) => `\`${String(value)}\``).join(' \\| ');
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return [...new Set(variants.map(typeName))].join(' \\| ');
  if (schema.type === 'array') return `${schema.items ? typeName(schema.items) : 'any'}[]`;
  if (schema.type === 'object' && !schema.properties && typeof schema.additionalProperties === 'object') {
    return `map of ${typeName(schema.additionalProperties)}`;
  }
  if (Array.isArray(schema.type)) return schema.type.join(' \\| ');
  return schema.type ?? 'any';
}

interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  description: string;
}

function fieldRows(schema: JsonSchema, prefix = '', depth = 0): FieldRow[] {
  const rows: FieldRow[] = [];
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    rows.push({
      path,
      type: typeName(field),
      required: schema.required?.includes(name) ?? false,
      description: field.description ?? fieldNotes[path] ?? '',
    });
    if (depth >= 2) continue;
    if (field.properties) rows.push(...fieldRows(field, `${path}.`, depth + 1));
    else if (field.type === 'array' && field.items?.properties) {
      rows.push(...fieldRows(field.items, `${path}[].`, depth + 1));
    }
  }
  return rows;
}

const jsonSchemaOf = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;

function fieldTable(schema: z.ZodType): string {
  const rows = fieldRows(jsonSchemaOf(schema));
  return [
    '| field | type | required | description |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| \`${row.path}\` | ${row.type} | ${row.required ? 'yes' : 'no'} | ${row.description.replaceAll('|', '\\|')} |`,
    ),
  ].join('\n');
}

/** "created in DRAFT", "PENDING → RUNNING"...: every way a type is emitted, from the code itself. */
function emittedWhen(type: EventType): string[] {
  if (type === 'tunedrop.v1.dataset.rejected') return ['validation of an uploaded dataset or manifest fails'];
  if (type === 'tunedrop.v1.job.stalled') {
    return ['the poller finds a job in a non-terminal state for longer than the stall timeout'];
  }
  const ways: string[] = [];
  for (const to of jobStates) {
    if (eventTypeForTransition(undefined, to) === type && (to === 'DRAFT' || to === 'PENDING')) {
      ways.push(`a job is created in ${to}`);
    }
  }
  for (const to of jobStates) {
    const froms = jobStates.filter(
      (from) => canTransition(from, to) && eventTypeForTransition(from, to) === type,
    );
    if (froms.length > 0) ways.push(`${froms.join(', ')} → ${to}`);
  }
  return ways;
}

/** The example job every example event describes, at fixed times. */
function exampleEvents(): Record<EventType, CloudEvent> {
  const project = 'my-project';
  const at = (minute: number) => new Date(Date.UTC(2025, 5, 2, 9, minute, 0));
  const source = {
    bucket: 'my-tunedrop-bucket',
    object: 'incoming/support-chats.jsonl',
    generation: '1748854800123456',
    manifest: false,
  };
  const id = jobIdFor(source);
  const draft: JobRecord = {
    id,
    state: 'DRAFT',
    createTime: at(0).toISOString(),
    updateTime: at(0).toISOString(),
    stateTime: at(0).toISOString(),
    source,
    spec: {
      baseModel: 'gemini-3.5-flash',
      trainingDatasetUri: `gs://${source.bucket}/${source.object}`,
      epochCount: 3,
      labels: { team: 'support' },
    },
    approval: { policy: { mode: 'budget', maxCostUsd: 25 }, required: true },
    validation: {
      reportUri: `gs://${source.bucket}/reports/${source.object}.report.json`,
      examples: 1200,
      warnings: 2,
    },
    estimate: {
      billableTokens: 7_200_000,
      epochs: 3,
      usdPerMillionTokens: 5,
      costUsd: 36,
      method: 'counted',
      priceDate: '2025-06-01',
    },
    provider: { name: 'vertex' },
    attempts: 0,
    stalledNotified: false,
    history: [{ state: 'DRAFT', time: at(0).toISOString(), reason: 'estimate over budget' }],
    outbox: [],
  };
  const jobName = 'projects/123456789/locations/us-central1/tuningJobs/4567890123456789012';
  const drafted = withCreationEvent(draft, { now: at(0), project });
  const step = (
    job: JobRecord,
    to: JobState,
    minute: number,
    patch: Partial<JobRecord> = {},
    reason?: string,
  ) => applyTransition(job, to, { now: at(minute), project, patch, ...(reason ? { reason } : {}) });
  const started = step(
    {
      ...drafted,
      approval: { ...drafted.approval, approvedBy: 'alex@example.com', approveTime: at(5).toISOString() },
    },
    'PENDING',
    5,
    {
      provider: {
        name: 'vertex',
        jobName,
        state: 'JOB_STATE_PENDING',
        createIntentTime: at(5).toISOString(),
      },
    },
    'approved',
  );
  const running = step(started, 'RUNNING', 8, {
    provider: { ...started.provider, state: 'JOB_STATE_RUNNING' },
    progress: { currentStep: 0, totalSteps: 450 },
  });
  const stalled = markStalled(
    { ...running, progress: { currentStep: 120, totalSteps: 450 } },
    {
      now: at(58),
      project,
    },
  );
  const succeeded = step(running, 'SUCCEEDED', 59, {
    provider: { ...running.provider, state: 'JOB_STATE_SUCCEEDED' },
    progress: { currentStep: 450, totalSteps: 450 },
    result: {
      tunedModel: 'projects/123456789/locations/us-central1/models/987654321@1',
      endpoint: 'projects/123456789/locations/us-central1/endpoints/1122334455',
      experiment: 'projects/123456789/locations/us-central1/metadataStores/default/contexts/tuning-exp',
    },
  });
  const failed = step(running, 'FAILED', 30, {
    provider: { ...running.provider, state: 'JOB_STATE_FAILED' },
    error: { code: 3, message: 'Training data is malformed at example 17: contents must alternate roles.' },
  });
  const cancelling = step(running, 'CANCELLING', 20, {}, 'cancelled by alex@example.com');
  const cancelled = step(cancelling, 'CANCELLED', 21, {
    provider: { ...running.provider, state: 'JOB_STATE_CANCELLED' },
  });
  const expired = step(drafted, 'EXPIRED', 7 * 24 * 60, {}, 'not approved within 7 days');

  const last = (job: JobRecord | undefined): CloudEvent => {
    const event = job?.outbox.at(-1)?.event;
    if (!event) throw new Error('example job has no event');
    return CloudEventEnvelope.parse(event);
  };
  const rejected = buildDatasetRejectedEvent(
    {
      jobId: jobIdFor({ ...source, object: 'incoming/faq.jsonl' }),
      source: { ...source, object: 'incoming/faq.jsonl' },
      reportUri: `gs://${source.bucket}/reports/incoming/faq.jsonl.report.json`,
      errorCount: 2,
      errors: [
        { line: 3, code: 'invalid-json', message: 'line is not valid JSON' },
        { line: 9, field: 'contents[1].role', code: 'bad-role', message: 'role must be "user" or "model"' },
      ],
    },
    { now: at(1), project },
  );
  return {
    'tunedrop.v1.dataset.rejected': rejected,
    'tunedrop.v1.job.drafted': last(drafted),
    'tunedrop.v1.job.started': last(started),
    'tunedrop.v1.job.running': last(running),
    'tunedrop.v1.job.succeeded': last(succeeded),
    'tunedrop.v1.job.failed': last(failed),
    'tunedrop.v1.job.cancelled': last(cancelled),
    'tunedrop.v1.job.expired': last(expired),
    'tunedrop.v1.job.stalled': last(stalled),
  };
}

export function renderEventsDoc(): string {
  const examples = exampleEvents();
  const out: string[] = [];
  out.push(
    '# tunedrop events',
    '',
    `<!-- Generated from shared/events/schemas.ts by \`${eventsDocCommand}\`. Do not edit by hand. -->`,
    '',
    'tunedrop publishes [CloudEvents 1.0](https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md)',
    'in structured JSON mode to one Pub/Sub topic (`tuning-events` by default). Webhook endpoints',
    'receive the same events, signed (see the README).',
    '',
    '## Types',
    '',
    '| type | meaning |',
    '| --- | --- |',
    ...eventTypes.map(
      (type) => `| [\`${type}\`](#${type.replaceAll('.', '')}) | ${eventCatalog[type].meaning} |`,
    ),
    '',
    '## Envelope',
    '',
    fieldTable(CloudEventEnvelope.omit({ data: true })),
    '',
    "`data` depends on the type: for every `job.*` event it is the job's public view in the state",
    'the event reports (the record without its internals).',
    '',
    '## Pub/Sub message',
    '',
    '- Body: the whole CloudEvent as JSON (UTF-8).',
    '- Attributes, for subscription filters:',
    '  - `type`: the event type;',
    '  - `jobId`: the subject (job id);',
    '  - `state`: the job state the event reports (absent for `dataset.rejected`);',
    '  - `content-type`: `application/cloudevents+json` (structured mode);',
    '  - `replay`: `true` on a copy re-published by `tunedrop jobs replay` (absent otherwise);',
    '    filter replays out with `NOT attributes:replay`.',
    "- Ordering key: the job id. On a subscription with message ordering enabled, one job's events",
    '  arrive in the order they happened.',
    '',
    'Subscribe to some events only with a filter, for example:',
    '',
    '```sh',
    'gcloud pubsub subscriptions create my-successes --topic=tuning-events \\',
    '  --enable-message-ordering \\',
    '  --message-filter=\'attributes.type = "tunedrop.v1.job.succeeded"\'',
    '```',
    '',
    'Other filters: every job event `hasPrefix(attributes.type, "tunedrop.v1.job.")`; every event of',
    'one job `attributes.jobId = "<id>"`; outcomes that need a person',
    '`attributes.type = "tunedrop.v1.job.failed" OR attributes.type = "tunedrop.v1.job.stalled"`.',
    '',
    '## Delivery and ids',
    '',
    '- At least once: a state change and its event are committed together (an outbox on the job',
    '  record); the event is published after the commit and marked published only once Pub/Sub has',
    '  accepted it. A crash or a publish failure re-publishes later with the **same id**:',
    '  deduplicate on `id`.',
    '- `id` is `{subject}.{type without "tunedrop."}`, e.g. `<job id>.v1.job.succeeded`; for',
    '  `job.stalled` the state is appended (`<job id>.v1.job.stalled.running`): one per state.',
    `- Each job record keeps its last ${maxOutboxEntries} events (unpublished ones are never dropped).`,
    '',
    '## Providers',
    '',
    'Job events carry `data.provider`: `vertex` (Vertex AI) or `yandex` (Yandex AI Studio). The',
    'events, ids and states are the same for both; what the data holds differs:',
    '',
    '- `providerJobName`: `projects/P/locations/L/tuningJobs/N` on Vertex AI,',
    '  `folders/<folder>/tuningTasks/<task id>` on Yandex.',
    '- `progress`: on Yandex, `currentStep`/`totalSteps` come straight from the tuning operation and',
    '  rise while the job runs; on Vertex AI the total comes with the dataset stats and the current',
    '  step from exported checkpoints.',
    '- `result`: on Yandex only `tunedModel`, the `target_model_uri`',
    '  (`gpt://<folder>/<model>/<version>@<suffix>`); Yandex has no checkpoints, endpoint or experiment.',
    '- `spec`: a Yandex job has `provider: "yandex"` and its hyperparameters under `spec.yandex`, and',
    '  none of the Vertex fields (`epochCount`, `learningRateMultiplier`, `adapterSize`, ...).',
    '- `estimate`: absent for Yandex (no public price).',
    '',
  );
  for (const type of eventTypes) {
    const description = eventCatalog[type];
    const example = examples[type];
    out.push(
      `## \`${type}\``,
      '',
      description.meaning,
      '',
      `Emitted when: ${emittedWhen(type).join('; ')}.`,
      '',
      `Subscription filter: \`attributes.type = "${type}"\``,
      '',
      '### Data',
      '',
      fieldTable(description.data),
      '',
      '### Example',
      '',
      'Attributes:',
      '',
      '```json',
      JSON.stringify(pubsubAttributes(example)),
      '```',
      '',
      'Body:',
      '',
      '```json',
      JSON.stringify(example, null, 2),
      '```',
      '',
    );
  }
  out.push(
    '## Versioning',
    '',
    ...versioningRules.map((rule) => `- ${rule}`),
    `- \`dataset.rejected\` lists at most ${maxErrorsInEvent} errors; the report at \`data.reportUri\` has them all.`,
    '',
  );
  return out.join('\n');
}
