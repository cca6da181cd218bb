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
export function estimateCost(
  model: ModelSpec,
  tokens: TokenEstimate,
  epochs?: number,
  /** The catalog's "facts as of" date, named when there is no price. */
  factsAsOf?: string,
): CostEstimate {
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
    basis: priceBasis(model, factsAsOf),
  };
}

/** The estimate's basis in words: the catalog price with its date and source, or none. */
export function priceBasis(model: ModelSpec, factsAsOf?: string): string {
  const { usdPerMillionTrainingTokens: price, asOf, source } = model.price;
  if (price === null) {
    return `no public price for ${model.id}${factsAsOf ? ` (model catalog facts as of ${factsAsOf})` : ''}`;
  }
  return `USD ${price} per 1M training tokens: ${model.id}'s catalog price as of ${asOf}${source ? ` (${source})` : ''}`;
}

function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}
