/**
 * Which provider a job goes to, and the settings that belong to only one of them. Yandex AI Studio
 * has no epochs, no adapter-size enum, no learning-rate multiplier, no CMEK key and no Vertex
 * service account; Vertex AI has no `yandex` hyperparameters. A setting given to the wrong
 * provider is an error naming the field, never silently dropped.
 */
import { findModel } from '../dataset/models.ts';
import { type Catalog, findCatalogModel } from '../models/index.ts';
import type { TuningSpec } from './model.ts';

export type ProviderName = 'vertex' | 'yandex';

/** A full Yandex model URI: gpt://<folder>/<model>/<version>. */
export const yandexModelUriPattern = /^gpt:\/\/[^/\s]+\/[^/@\s]+\/[^/@\s]+$/;

/**
 * The provider a model belongs to: a gpt:// URI is Yandex's; a name is looked up in the effective
 * catalog (the operator's TUNEDROP_MODEL_CATALOG override merged over the built-in one) when one is
 * given, else in the built-in catalog. Undefined for a model no catalog knows.
 */
export function modelProviderOf(model: string, catalog?: Catalog): ProviderName | undefined {
  if (yandexModelUriPattern.test(model)) return 'yandex';
  return (catalog ? findCatalogModel(catalog, model)?.provider : undefined) ?? findModel(model)?.provider;
}

/** The provider a job asks for: the explicit one, else the one its model belongs to (Vertex by default). */
export function providerFor(
  explicit: ProviderName | undefined,
  baseModel: string | undefined,
  catalog?: Catalog,
): ProviderName {
  if (explicit) return explicit;
  if (baseModel && modelProviderOf(baseModel, catalog) === 'yandex') return 'yandex';
  return 'vertex';
}

/** Vertex-only fields, with what to use on Yandex instead. */
export const vertexOnlyFields = {
  epochCount: 'Yandex AI Studio has no epochs (its size control is yandex.nSamples)',
  learningRateMultiplier: 'Yandex AI Studio takes an absolute learning rate: use yandex.lr',
  adapterSize: 'Yandex AI Studio has no adapter-size enum: use yandex.lora.rank',
  kmsKeyName: 'Yandex AI Studio takes no Cloud KMS key',
  serviceAccount: 'Yandex AI Studio runs as the deployment’s Yandex service account, not a Google one',
} as const;

export interface ProviderIssue {
  path: string;
  message: string;
}

/** Fields of a spec (or manifest: same names) that do not belong to its provider, and a model of the other one. */
export function providerIssues(
  fields: Partial<Record<keyof typeof vertexOnlyFields | 'yandex' | 'baseModel', unknown>>,
  provider: ProviderName,
  catalog?: Catalog,
): ProviderIssue[] {
  const issues: ProviderIssue[] = [];
  const model = typeof fields.baseModel === 'string' ? fields.baseModel : undefined;
  const modelProvider = model ? modelProviderOf(model, catalog) : undefined;
  if (provider === 'yandex') {
    for (const [field, why] of Object.entries(vertexOnlyFields)) {
      if (fields[field as keyof typeof vertexOnlyFields] !== undefined)
        issues.push({ path: `/${field}`, message: `is a Vertex AI setting; ${why}` });
    }
    if (model === undefined)
      issues.push({
        path: '/baseModel',
        message: 'is required for provider yandex (e.g. a catalog model or gpt://<folder>/<model>/latest)',
      });
    else if (modelProvider && modelProvider !== 'yandex')
      issues.push({
        path: '/baseModel',
        message: `${model} is a Vertex AI model; the job asks for provider yandex`,
      });
  } else {
    if (fields.yandex !== undefined)
      issues.push({ path: '/yandex', message: 'Yandex AI Studio settings need "provider": "yandex"' });
    if (model && modelProvider === 'yandex')
      issues.push({
        path: '/baseModel',
        message: `${model} is a Yandex AI Studio model; the job asks for provider vertex`,
      });
  }
  return issues;
}

/** The same rules on a built spec. */
export function specProviderIssues(spec: TuningSpec, catalog?: Catalog): ProviderIssue[] {
  return providerIssues(spec, spec.provider ?? 'vertex', catalog);
}
