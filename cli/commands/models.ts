/**
 * `tunedrop models`: the effective model catalog (the built-in one with TUNEDROP_MODEL_CATALOG
 * merged over it), as validate, ingest and submit use it: status, dates and what they mean today,
 * limits, adapter sizes, tuning regions, CMEK and the price with its basis.
 */
import { parseArgs } from 'node:util';
import {
  type Catalog,
  type CatalogModel,
  PROVIDERS,
  RETIREMENT_WARNING_DAYS,
  todayUtc,
} from '../../shared/models/index.ts';
import { loadCliCatalog } from '../lib/model-catalog.ts';
import type { Command } from './index.ts';

const USAGE = `Usage: tunedrop models [options]

Lists the model catalog tunedrop checks jobs and datasets against: the built-in catalog, with the
operator's TUNEDROP_MODEL_CATALOG (a JSON file, or a gs:// object) merged over it.

Options:
  --provider NAME   only this provider's models (${PROVIDERS.join(', ')})
  --json            print the catalog as JSON on stdout, with each model's lifecycle today

Exit status: 0 listed, 2 usage error or an unreadable or invalid catalog.`;

/**
 * What a model's retirement means today. `retired`: the date has passed and is confirmed (jobs
 * are refused); `retirement-unconfirmed`: a listed date has passed but its effect on new tuning
 * jobs is not confirmed (a warning); `retiring`: within the warning window; `scheduled`: a later
 * date; `no-date`: the catalog knows none.
 */
export type LifecycleState = 'retired' | 'retirement-unconfirmed' | 'retiring' | 'scheduled' | 'no-date';

export interface Lifecycle {
  state: LifecycleState;
  /** Days until the retirement date (negative: since); null without a date. */
  daysLeft: number | null;
}

export function lifecycleOf(model: CatalogModel, today: string): Lifecycle {
  const retirement = model.retirement;
  if (!retirement) return { state: 'no-date', daysLeft: null };
  const daysLeft = Math.round(
    (Date.parse(`${retirement.date}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000,
  );
  if (daysLeft <= 0) return { state: retirement.confirmed ? 'retired' : 'retirement-unconfirmed', daysLeft };
  return { state: daysLeft <= RETIREMENT_WARNING_DAYS ? 'retiring' : 'scheduled', daysLeft };
}

const number = new Intl.NumberFormat('en-US');
const fmt = (value: number | null, none = 'not documented') => (value === null ? none : number.format(value));
const gb = (bytes: number) => `${Number((bytes / 1024 ** 3).toFixed(2))} GB`;

function lifecycleText(model: CatalogModel, lifecycle: Lifecycle): string {
  const date = model.retirement?.date;
  const days = lifecycle.daysLeft ?? 0;
  switch (lifecycle.state) {
    case 'retired':
      return `RETIRED on ${date}`;
    case 'retirement-unconfirmed':
      return `listed for retirement on ${date} (passed; UNCONFIRMED whether new jobs are refused: warning only)`;
    case 'retiring':
      return `retiring ${model.retirement?.confirmed ? 'on' : 'on or after'} ${date} (in ${days} day${days === 1 ? '' : 's'})`;
    case 'scheduled':
      return `retires ${model.retirement?.confirmed ? 'on' : 'on or after'} ${date}${model.retirement?.confirmed ? '' : ' (unconfirmed)'}`;
    case 'no-date':
      return 'retirement date unknown';
  }
}

export function priceText(model: CatalogModel): string {
  const { usdPerMillionTrainingTokens: price, asOf, source } = model.price;
  if (price === null) return 'no public price';
  return `USD ${price} per 1M training tokens (as of ${asOf}${source ? `, ${source}` : ''})`;
}

function describeModel(model: CatalogModel, today: string): string[] {
  const { limits } = model;
  const share = limits.validationShareOfTraining;
  const lines = [
    `${model.id}${model.aliases.length ? ` (also ${model.aliases.join(', ')})` : ''}  ${model.provider}  ${model.status}`,
    `  lifecycle      released ${model.releaseDate ?? 'date unknown'}; ${lifecycleText(model, lifecycleOf(model, today))}${model.replacements.length ? `; replacements: ${model.replacements.join(', ')}` : ''}`,
    `  limits         ${fmt(limits.maxTokensPerExample)} tokens per example; ${fmt(limits.maxValidationExamples)} validation examples${share ? ` (or ${Math.round(share.share * 100)}% of training above ${fmt(share.appliesAboveExamples)}: UNCONFIRMED, warning only)` : ''}; training file ${gb(limits.maxTrainingFileBytes)}; training examples ${fmt(limits.maxTrainingExamplesTextOnly)} text-only, ${fmt(limits.maxTrainingExamplesMultimodal)} multimodal`,
  ];
  if (
    limits.maxPromptTokens !== null ||
    limits.maxResponseTokens !== null ||
    limits.minTrainingExamples !== null
  ) {
    lines.push(
      `                 prompt ${fmt(limits.maxPromptTokens, 'any')} tokens, response ${fmt(limits.maxResponseTokens, 'any')} tokens, at least ${fmt(limits.minTrainingExamples, 'any number of')} training examples`,
    );
  }
  lines.push(
    `  tuning         adapter sizes ${model.adapterSizes?.join(', ') ?? 'not checked'}; regions ${model.tuningRegions?.join(', ') ?? 'not stated (not checked)'}; CMEK ${model.cmek}`,
    `  data           ${model.modalities.join(', ')}; parts ${model.partKinds.join(', ')}`,
    `  price          ${priceText(model)}`,
  );
  for (const note of model.notes) lines.push(`  note           ${note}`);
  return lines;
}

export const models: Command = {
  async run(args) {
    let values: { provider?: string | undefined; json?: boolean | undefined; help?: boolean | undefined };
    try {
      ({ values } = parseArgs({
        args,
        strict: true,
        options: {
          provider: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (error) {
      console.error(`tunedrop models: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (values.provider !== undefined && !(PROVIDERS as readonly string[]).includes(values.provider)) {
      console.error(
        `tunedrop models: --provider must be one of ${PROVIDERS.join(', ')}, got "${values.provider}"`,
      );
      return 2;
    }
    let catalog: Catalog;
    try {
      catalog = await loadCliCatalog(process.env);
    } catch (error) {
      console.error(`tunedrop models: ${(error as Error).message}`);
      return 2;
    }
    const today = todayUtc();
    const override = process.env.TUNEDROP_MODEL_CATALOG?.trim() || null;
    const chosen = catalog.models.filter((model) => !values.provider || model.provider === values.provider);
    if (values.json) {
      console.log(
        JSON.stringify(
          {
            factsAsOf: catalog.factsAsOf,
            today,
            override,
            sources: catalog.sources,
            models: chosen.map((model) => ({ ...model, lifecycle: lifecycleOf(model, today) })),
            unknownModelDefaults: catalog.unknownModelDefaults,
          },
          null,
          2,
        ),
      );
      return 0;
    }
    const out = [
      `Model catalog: facts as of ${catalog.factsAsOf}${override ? ` (built-in, with ${override} merged over it)` : ' (built-in)'}; today is ${today}.`,
      'A retired model is refused; an unknown model is checked with conservative limits and the provider answers for it.',
      '',
    ];
    for (const model of chosen) out.push(...describeModel(model, today), '');
    console.log(out.join('\n').trimEnd());
    return 0;
  },
};
