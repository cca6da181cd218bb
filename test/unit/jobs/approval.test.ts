import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy } from '../../../shared/config/index.ts';
import { effectivePolicy, isAtLeastAsStrict, needsApproval } from '../../../shared/jobs/approval.ts';

const auto: ApprovalPolicy = { mode: 'auto' };
const manual: ApprovalPolicy = { mode: 'manual' };
const budget = (maxCostUsd: number): ApprovalPolicy => ({ mode: 'budget', maxCostUsd });

describe('approval policy a job gets', () => {
  // [deployment, requested, applied, warned]
  const cases: [string, ApprovalPolicy, ApprovalPolicy | undefined, ApprovalPolicy, boolean][] = [
    ['auto, nothing asked', auto, undefined, auto, false],
    ['auto, asks auto', auto, auto, auto, false],
    ['auto, asks budget', auto, budget(10), budget(10), false],
    ['auto, asks manual', auto, manual, manual, false],
    ['budget, nothing asked', budget(10), undefined, budget(10), false],
    ['budget, asks auto (looser)', budget(10), auto, budget(10), true],
    ['budget, asks a lower cap', budget(10), budget(5), budget(5), false],
    ['budget, asks the same cap', budget(10), budget(10), budget(10), false],
    ['budget, asks a higher cap (looser)', budget(10), budget(50), budget(10), true],
    ['budget, asks manual', budget(10), manual, manual, false],
    ['manual, nothing asked', manual, undefined, manual, false],
    ['manual, asks auto (looser)', manual, auto, manual, true],
    ['manual, asks budget (looser)', manual, budget(1), manual, true],
    ['manual, asks manual', manual, manual, manual, false],
  ];
  it.each(cases)('%s', (_name, deployment, requested, applied, warned) => {
    const result = effectivePolicy(deployment, requested);
    expect(result.policy).toEqual(applied);
    expect(result.warning !== undefined).toBe(warned);
  });

  it('says in the warning which policy applies', () => {
    expect(effectivePolicy(manual, auto).warning).toBe(
      'approval "auto" is looser than the deployment\'s "manual"; the deployment\'s policy applies',
    );
  });

  it('orders policies manual > budget (lower cap first) > auto', () => {
    expect(isAtLeastAsStrict(manual, budget(0))).toBe(true);
    expect(isAtLeastAsStrict(budget(0), manual)).toBe(false);
    expect(isAtLeastAsStrict(budget(1), budget(2))).toBe(true);
    expect(isAtLeastAsStrict(budget(2), budget(1))).toBe(false);
    expect(isAtLeastAsStrict(budget(1000), auto)).toBe(true);
    expect(isAtLeastAsStrict(auto, budget(1000))).toBe(false);
  });
});

describe('whether a job needs approval', () => {
  it('never under auto, always under manual', () => {
    expect(needsApproval(auto, 1_000_000)).toBe(false);
    expect(needsApproval(auto, null)).toBe(false);
    expect(needsApproval(manual, 0)).toBe(true);
  });

  it('under a budget, only above the cap', () => {
    expect(needsApproval(budget(10), 9.99)).toBe(false);
    expect(needsApproval(budget(10), 10)).toBe(false);
    expect(needsApproval(budget(10), 10.01)).toBe(true);
    expect(needsApproval(budget(0), 0)).toBe(false);
  });

  it('under a budget, when the cost is unknown', () => {
    expect(needsApproval(budget(10), null)).toBe(true);
    expect(needsApproval(budget(10), undefined)).toBe(true);
  });
});
