/**
 * Continuous tuning: a manifest may start from a tuned model (`preTunedModel`) instead of a base
 * model. tunedrop still validates the dataset before any spend, and validation needs the base
 * model's rules, so the base is looked up first:
 *
 * 1. a succeeded tunedrop job that produced that tuned model (its record has the base model), else
 * 2. the provider's model resource: Vertex labels a tuned model with its tuning base model id
 *    (shared/providers/vertex/schema.ts, ModelResource), matched against the catalog.
 *
 * The catalog then decides: `continuousTuning: false` is refused before any spend with the reason;
 * `null` (not documented either way) passes with a note, as tunedrop never blocks what the provider
 * may accept. A base the catalog does not know passes as an unknown model (conservative limits).
 */
import { type Catalog, findCatalogModel } from '../models/index.ts';
import type { TuningProvider } from '../providers/types.ts';
import type { FieldIssue } from './manifest.ts';
import type { PreTunedModel } from './model.ts';
import type { JobStore } from './store-types.ts';

export interface PreTunedBaseSources {
  store: Pick<JobStore, 'findByTunedModel'>;
  provider?: Pick<TuningProvider, 'describeTunedModel'>;
  catalog: Catalog;
}

export type PreTunedResolution =
  | { ok: true; baseModel: string; source: string; notes: string[] }
  | { ok: false; issues: FieldIssue[] };

const path = '/preTunedModel/tunedModelName';

/**
 * Label values cannot hold dots, so a base model id may come back with `.` written as `_` or `-`
 * (the exact spelling is UNCONFIRMED): every spelling is tried against the catalog.
 */
function baseFromLabel(label: string, catalog: Catalog): string {
  const candidates = [label, label.replaceAll('_', '.'), label.replace(/^(gemini-\d+)-(\d+)/, '$1.$2')];
  for (const candidate of candidates) {
    const entry = findCatalogModel(catalog, candidate);
    if (entry) return entry.id;
  }
  return label.replaceAll('_', '.');
}

export async function resolvePreTunedBase(
  pre: PreTunedModel,
  sources: PreTunedBaseSources,
): Promise<PreTunedResolution> {
  const name = pre.tunedModelName;
  let baseModel: string | undefined;
  let source = '';
  const made = (await sources.store.findByTunedModel?.(name))?.filter((job) => job.state === 'SUCCEEDED');
  const producer = made?.sort((a, b) => a.createTime.localeCompare(b.createTime))[0];
  if (producer) {
    baseModel = producer.spec.baseModel;
    source = `tunedrop job ${producer.id}`;
  } else if (sources.provider?.describeTunedModel) {
    // Transient provider errors are thrown: ingest is redelivered and asks again.
    const described = await sources.provider.describeTunedModel(name);
    if (!described) {
      return { ok: false, issues: [{ path, message: `${name} does not exist at the provider` }] };
    }
    if (described.baseModel) {
      baseModel = baseFromLabel(described.baseModel, sources.catalog);
      source = `the provider's model resource (base model label "${described.baseModel}")`;
    }
  }
  if (!baseModel) {
    return {
      ok: false,
      issues: [
        {
          path,
          message: `cannot tell the base model of ${name}: no tunedrop job produced it and the provider's model resource names none, so the dataset cannot be checked; start from a base model (baseModel) instead`,
        },
      ],
    };
  }
  const entry = findCatalogModel(sources.catalog, baseModel);
  const notes: string[] = [];
  if (entry?.continuousTuning === false) {
    return {
      ok: false,
      issues: [
        {
          path,
          message: `${name} was tuned from ${entry.id}, which does not support continuous tuning (catalog facts as of ${sources.catalog.factsAsOf}); tune ${entry.id} or one of ${entry.replacements.join(', ') || 'its successors'} from scratch instead`,
        },
      ],
    };
  }
  if (entry && entry.continuousTuning === null) {
    notes.push(
      `whether ${entry.id} supports continuous tuning is not documented (catalog facts as of ${sources.catalog.factsAsOf}); the provider's answer stands`,
    );
  }
  notes.push(`continuous tuning from ${name}: base model ${baseModel}, from ${source}`);
  return { ok: true, baseModel, source, notes };
}
