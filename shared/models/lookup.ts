/**
 * Which catalog entry a model id means today: known, retired (an error everywhere, with the date
 * and the replacements) or unknown (a warning and conservative limits; the provider's own answer
 * then stands). Dates are compared as UTC calendar days; `today` is passed in so tests pin it.
 */
import type { Catalog, CatalogModel, Provider } from './schema.ts';

/** A model whose retirement date is this close (or closer) is warned about. */
export const RETIREMENT_WARNING_DAYS = 30;

export type ModelResolution =
  | { kind: 'known'; model: CatalogModel; warnings: string[] }
  | { kind: 'retired'; model: CatalogModel; message: string; warnings: string[] }
  | { kind: 'unknown'; model: CatalogModel; warnings: string[] };

const RESOURCE_PREFIX = /^(?:projects\/[^/]+\/locations\/[^/]+\/)?publishers\/google\/models\//;

/** The bare model name of `publishers/google/models/<id>`, `google/<id>@default`, `gpt://<folder>/<id>/latest` and the like. */
export function bareModelId(id: string): string {
  return (
    id
      .trim()
      // Yandex model URIs, gpt://<folder>/<model>/<version>[@<tuning>], name their model second.
      .replace(/^gpt:\/\/[^/]+\/([^/@]+)(?:\/[^/]*)?$/, '$1')
      .replace(RESOURCE_PREFIX, '')
      .replace(/^google\//, '')
      .replace(/@default$/, '')
  );
}

/** The entry an id or alias names, of any provider (or of the one given), or undefined. */
export function findCatalogModel(
  catalog: Catalog,
  id: string,
  provider?: Provider,
): CatalogModel | undefined {
  const bare = bareModelId(id);
  return catalog.models.find(
    (model) =>
      (provider === undefined || model.provider === provider) &&
      (model.id === bare || model.aliases.includes(bare)),
  );
}

export function resolveModel(
  catalog: Catalog,
  id: string,
  options: { today: string; provider?: Provider },
): ModelResolution {
  const model = findCatalogModel(catalog, id, options.provider);
  if (!model) {
    const provider = options.provider ?? 'vertex';
    return {
      kind: 'unknown',
      model: unknownModel(catalog, bareModelId(id), provider),
      warnings: [
        `unknown model "${bareModelId(id)}": checked with conservative limits; the catalog's facts are as of ${catalog.factsAsOf} (tunedrop models lists them), and the provider's own answer stands`,
      ],
    };
  }
  const warnings: string[] = [];
  const retirement = model.retirement;
  if (retirement) {
    const daysLeft = daysBetween(options.today, retirement.date);
    const instead = replacementText(model);
    if (daysLeft <= 0 && retirement.confirmed) {
      return {
        kind: 'retired',
        model,
        message: `${model.id} was retired on ${retirement.date}${instead}`,
        warnings,
      };
    }
    if (daysLeft <= 0) {
      warnings.push(
        `${model.id} was listed for retirement on ${retirement.date}; whether new tuning jobs are refused is not confirmed (catalog facts as of ${catalog.factsAsOf}), so the provider's answer stands${instead}`,
      );
    } else if (daysLeft <= RETIREMENT_WARNING_DAYS) {
      warnings.push(
        `${model.id} retires ${retirement.confirmed ? 'on' : 'on or after'} ${retirement.date} (in ${daysLeft} day${daysLeft === 1 ? '' : 's'})${instead}`,
      );
    }
  }
  if (model.status === 'preview') warnings.push(`${model.id} tuning is in Preview at the provider`);
  return { kind: 'known', model, warnings };
}

function replacementText(model: CatalogModel): string {
  return model.replacements.length ? `; use ${model.replacements.join(' or ')}` : '';
}

function unknownModel(catalog: Catalog, id: string, provider: Provider): CatalogModel {
  const defaults = catalog.unknownModelDefaults[provider];
  return {
    id,
    aliases: [],
    provider,
    displayName: id,
    status: 'GA',
    releaseDate: null,
    retirement: null,
    replacements: [],
    limits: defaults.limits,
    adapterSizes: null,
    modalities: defaults.modalities,
    partKinds: defaults.partKinds,
    tuningRegions: null,
    cmek: 'unknown',
    continuousTuning: null,
    defaultEpochs: defaults.defaultEpochs,
    price: { usdPerMillionTrainingTokens: null, source: null, asOf: null },
    notes: ['Not in the catalog: conservative limits, nothing else checked.'],
  };
}

/** Today as YYYY-MM-DD in UTC. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
