import type { ExampleMetrics } from './example-rules.ts';
import { type HistogramState, LogHistogram } from './histogram.ts';
import { MEDIA_NOMINAL_TOKENS, templateOverhead, tokenUpperBound } from './tokens.ts';

/** Sums over accepted (valid) examples, in a form that crosses threads. */
export interface TotalsState {
  validExamples: number;
  characters: number;
  mediaParts: number;
  contentBytes: number;
  overheadTokens: number;
  upperBoundTokens: number;
  bounded: number;
  counted: number;
  /** Examples counted with the tokenizer (over the byte bound): their text bytes and exact tokens. */
  countedBytes: number;
  countedTokens: number;
  turns: HistogramState;
  tokens: HistogramState;
}

/**
 * The figures of valid examples behind the stats and the estimate. Every field is a sum or a
 * histogram, so totals kept per block and merged give exactly what one pass would.
 */
export class ExampleTotals {
  validExamples = 0;
  characters = 0;
  mediaParts = 0;
  contentBytes = 0;
  overheadTokens = 0;
  upperBoundTokens = 0;
  bounded = 0;
  counted = 0;
  countedBytes = 0;
  countedTokens = 0;
  readonly turns = new LogHistogram();
  readonly tokens = new LogHistogram();

  accept(metrics: ExampleMetrics, tokens: number, method: 'bound' | 'counted'): void {
    this.validExamples++;
    this.characters += metrics.characters;
    this.mediaParts += metrics.mediaParts;
    this.contentBytes += metrics.contentBytes;
    this.overheadTokens += templateOverhead(metrics);
    this.upperBoundTokens += tokenUpperBound(metrics) + metrics.mediaParts * MEDIA_NOMINAL_TOKENS;
    this.turns.add(metrics.turns);
    this.tokens.add(tokens);
    if (method === 'bound') this.bounded++;
    else {
      this.counted++;
      this.countedBytes += metrics.contentBytes;
      this.countedTokens += tokens - templateOverhead(metrics);
    }
  }

  merge(other: TotalsState): void {
    this.validExamples += other.validExamples;
    this.characters += other.characters;
    this.mediaParts += other.mediaParts;
    this.contentBytes += other.contentBytes;
    this.overheadTokens += other.overheadTokens;
    this.upperBoundTokens += other.upperBoundTokens;
    this.bounded += other.bounded;
    this.counted += other.counted;
    this.countedBytes += other.countedBytes;
    this.countedTokens += other.countedTokens;
    this.turns.merge(other.turns);
    this.tokens.merge(other.tokens);
  }

  state(): TotalsState {
    return {
      validExamples: this.validExamples,
      characters: this.characters,
      mediaParts: this.mediaParts,
      contentBytes: this.contentBytes,
      overheadTokens: this.overheadTokens,
      upperBoundTokens: this.upperBoundTokens,
      bounded: this.bounded,
      counted: this.counted,
      countedBytes: this.countedBytes,
      countedTokens: this.countedTokens,
      turns: this.turns.state(),
      tokens: this.tokens.state(),
    };
  }
}
