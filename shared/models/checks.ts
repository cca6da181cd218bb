/**
 * Job settings checked against a model's catalog entry before any spend: adapter size, tuning
 * region, CMEK. Where the catalog does not know (null, 'unknown'), nothing is refused: the
 * provider's own answer then stands.
 */
import type { CatalogModel } from './schema.ts';

export function adapterSizeIssue(model: CatalogModel, size: number): string | undefined {
  if (!model.adapterSizes || model.adapterSizes.includes(size as never)) return undefined;
  return `adapter size ${size} is not available for ${model.id}; allowed: ${model.adapterSizes.join(', ')}`;
}

export function regionIssue(model: CatalogModel, region: string): string | undefined {
  if (!model.tuningRegions || model.tuningRegions.includes(region)) return undefined;
  return `${model.id} cannot be tuned in ${region}; tuning regions: ${model.tuningRegions.join(', ')}`;
}

export function cmekIssue(model: CatalogModel, kmsKeyName: string | undefined): string | undefined {
  if (!kmsKeyName || model.cmek !== 'unsupported') return undefined;
  return `${model.id} tuning does not support customer-managed encryption keys (kmsKeyName)`;
}
