import { describe, expect, it } from 'vitest';
import { HISTOGRAM_RELATIVE_ERROR, LogHistogram } from '../../../shared/dataset/index.ts';

describe('token distribution histogram', () => {
  it('gives exact min, max, mean and percentiles within the documented relative error', () => {
    const histogram = new LogHistogram();
    const values = Array.from({ length: 10_000 }, (_, i) => 1 + ((i * 7919) % 50_000));
    for (const value of values) histogram.add(value);
    const sorted = [...values].sort((a, b) => a - b);
    const summary = histogram.summary();
    expect(summary.min).toBe(sorted[0]);
    expect(summary.max).toBe(sorted.at(-1));
    expect(summary.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
    for (const [q, got] of [
      [0.5, summary.p50],
      [0.95, summary.p95],
    ] as const) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(HISTOGRAM_RELATIVE_ERROR + 1e-9);
    }
  });

  it('merges histograms as if the values had been added to one', () => {
    const [a, b, all] = [new LogHistogram(), new LogHistogram(), new LogHistogram()];
    for (let i = 0; i < 1000; i++) {
      (i % 2 ? a : b).add(i);
      all.add(i);
    }
    a.merge(b.state());
    expect(a.summary()).toEqual(all.summary());
  });

  it('summarises an empty histogram as zeros', () => {
    expect(new LogHistogram().summary()).toEqual({ count: 0, min: 0, max: 0, mean: 0, p50: 0, p95: 0 });
  });
});
