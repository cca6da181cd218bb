import { type ModelSpec, PRICE_SOURCE, PRICES_TAKEN_ON } from './models.ts';
import type { CostEstimate, TokenEstimate } from './report.ts';

/**
 * billable tokens × epochs × the model's USD price per 1M training tokens, for both the
 * estimated and the upper-bound token figures. Epochs default to the model's `defaultEpochs`.
 */
export function estimateCost(model: ModelSpec, tokens: TokenEstimate, epochs?: number): CostEstimate {
  const price = model.pricePerMillionTrainingTokens;
  const runs = epochs ?? model.defaultEpochs;
  const usd = (count: number) => (price === null ? null : roundCents((count * runs * price) / 1_000_000));
  return {
    model: model.id,
    epochs: runs,
    epochsSource: epochs === undefined ? 'model-default' : 'caller',
    pricePerMillionTrainingTokens: price,
    pricesTakenOn: PRICES_TAKEN_ON,
    priceSource: PRICE_SOURCE,
    billableTokens: { estimated: tokens.estimated, upperBound: tokens.upperBound },
    estimatedUsd: usd(tokens.estimated),
    upperBoundUsd: usd(tokens.upperBound),
    method: tokens.method,
  };
}

function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}
