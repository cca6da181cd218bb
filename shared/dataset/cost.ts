import type { ModelSpec } from './models.ts';
import type { CostEstimate, TokenEstimate } from './report.ts';

/** Epochs assumed when neither the job nor the catalog gives any (a provider with no epochs). */
const SINGLE_PASS = 1;

/**
 * billable tokens × epochs × the model's USD price per 1M training tokens, for both the
 * estimated and the upper-bound token figures. Epochs default to the catalog's `defaultEpochs`.
 * The price, its source and its date come from the catalog; a null price gives a null cost, never
 * an invented figure.
 */
export function estimateCost(model: ModelSpec, tokens: TokenEstimate, epochs?: number): CostEstimate {
  const price = model.price.usdPerMillionTrainingTokens;
  const runs = epochs ?? model.defaultEpochs ?? SINGLE_PASS;
  const usd = (count: number) => (price === null ? null : roundCents((count * runs * price) / 1_000_000));
  return {
    model: model.id,
    epochs: runs,
    epochsSource: epochs === undefined ? 'model-default' : 'caller',
    pricePerMillionTrainingTokens: price,
    pricesTakenOn: model.price.asOf,
    priceSource: model.price.source,
    billableTokens: { estimated: tokens.estimated, upperBound: tokens.upperBound },
    estimatedUsd: usd(tokens.estimated),
    upperBoundUsd: usd(tokens.upperBound),
    method: tokens.method,
  };
}

function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}
