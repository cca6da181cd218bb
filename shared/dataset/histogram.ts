/**
 * A log-bucketed histogram of non-negative integers in constant memory, for percentiles over
 * millions of examples. Bucket i holds values in [GROWTH^i, GROWTH^(i+1)); a percentile is
 * reported as the bucket's geometric middle, clamped to the exact min and max, so its relative
 * error is at most sqrt(GROWTH) - 1 (about 1%). min, max and mean are exact.
 */
export const HISTOGRAM_GROWTH = 1.02;
export const HISTOGRAM_RELATIVE_ERROR = Math.sqrt(HISTOGRAM_GROWTH) - 1;
const LOG_GROWTH = Math.log(HISTOGRAM_GROWTH);
// Enough buckets for values up to 2^40, far past any per-example token count.
const BUCKETS = Math.ceil((40 * Math.LN2) / LOG_GROWTH) + 2;

export interface HistogramSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p95: number;
}

/** A histogram's counts in a form that crosses threads cheaply (structured clone). */
export interface HistogramState {
  count: number;
  sum: number;
  min: number;
  max: number;
  zeros: number;
  /** The non-empty buckets only, as flat pairs [index, count, index, count, ...]: a block of a few
   * hundred examples fills a handful of the ~2,800 buckets. */
  buckets: number[];
}

/** Counts of values in [from, to): power-of-two bins, for a histogram a person reads. */
export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

const LOG2_GROWTH = Math.log2(HISTOGRAM_GROWTH);

export class LogHistogram {
  /** Bucket index → count, non-empty buckets only: one histogram is made per block of lines, and
   * a dense array of ~2,800 buckets per block was megabytes of garbage per second. */
  private readonly buckets = new Map<number, number>();
  private zeros = 0;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  add(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value < 1) {
      this.zeros++;
      return;
    }
    const index = Math.min(BUCKETS - 1, Math.floor(Math.log(value) / LOG_GROWTH));
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
  }

  /** Adds another histogram's counts (from another worker or block). */
  merge(other: HistogramState): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.sum += other.sum;
    this.zeros += other.zeros;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    for (let i = 0; i + 1 < other.buckets.length; i += 2) {
      const index = other.buckets[i]!;
      this.buckets.set(index, (this.buckets.get(index) ?? 0) + other.buckets[i + 1]!);
    }
  }

  state(): HistogramState {
    const buckets: number[] = [];
    for (const [index, count] of this.buckets) buckets.push(index, count);
    return { count: this.count, sum: this.sum, min: this.min, max: this.max, zeros: this.zeros, buckets };
  }

  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = this.zeros;
    if (seen >= rank) return this.min;
    for (const i of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(i)!;
      if (seen >= rank) {
        const middle = Math.round(HISTOGRAM_GROWTH ** (i + 0.5));
        return Math.min(this.max, Math.max(this.min, middle));
      }
    }
    return this.max;
  }

  /**
   * Power-of-two bins ([0, 1), [1, 2), [2, 4), ... [2^k, 2^(k+1))) from the lowest to the highest
   * non-empty one, empty bins between included. A fine bucket straddling a power of two counts in
   * the lower bin, so a bin's edges are exact to within the growth factor (2%).
   */
  bins(): HistogramBin[] {
    const counts = new Map<number, number>();
    if (this.zeros > 0) counts.set(-1, this.zeros);
    for (const [index, count] of this.buckets) {
      const bin = Math.max(0, Math.floor(index * LOG2_GROWTH + 1e-9));
      counts.set(bin, (counts.get(bin) ?? 0) + count);
    }
    if (counts.size === 0) return [];
    const keys = [...counts.keys()];
    const bins: HistogramBin[] = [];
    for (let bin = Math.min(...keys); bin <= Math.max(...keys); bin++) {
      bins.push({
        from: bin < 0 ? 0 : 2 ** bin,
        to: bin < 0 ? 1 : 2 ** (bin + 1),
        count: counts.get(bin) ?? 0,
      });
    }
    return bins;
  }

  summary(): HistogramSummary {
    if (this.count === 0) return { count: 0, min: 0, max: 0, mean: 0, p50: 0, p95: 0 };
    return {
      count: this.count,
      min: this.min,
      max: this.max,
      mean: this.sum / this.count,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
    };
  }
}
