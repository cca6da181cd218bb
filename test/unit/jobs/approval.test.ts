import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy } from '../../../shared/config/index.ts';
import { loadConfig } from '../../../shared/config/index.ts';
import {
  approvalDecision,
  effectivePolicy,
  isAtLeastAsStrict,
  needsApproval,
} from '../../../shared/jobs/approval.ts';

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

describe('the automatic-start ceiling (TUNEDROP_AUTO_APPROVE_MAX_USD)', () => {
  it('drafts a job above it even under auto, saying why', () => {
    const decision = approvalDecision(auto, 80, 50);
    expect(decision.required).toBe(true);
    expect(decision.reason).toBe(
      'estimate $80.00 is above TUNEDROP_AUTO_APPROVE_MAX_USD ($50.00): approve it to start',
    );
  });

  it('starts a job at or below it under auto', () => {
    expect(approvalDecision(auto, 50, 50)).toEqual({ required: false });
    expect(approvalDecision(auto, 0.01, 50)).toEqual({ required: false });
  });

  it('applies under a budget that would allow more', () => {
    expect(approvalDecision(budget(200), 120, 50).required).toBe(true);
    expect(approvalDecision(budget(200), 120, null).required).toBe(false);
  });

  it('shows a ceiling below a cent as it is, not as $0.00', () => {
    expect(approvalDecision(auto, 0.01, 0.001).reason).toContain('TUNEDROP_AUTO_APPROVE_MAX_USD ($0.0010)');
  });

  it('lets everything through when the operator turned it off', () => {
    expect(approvalDecision(auto, 10_000, null)).toEqual({ required: false });
  });

  it('leaves a job without an estimate to the policy', () => {
    expect(approvalDecision(auto, null, 50).required).toBe(false);
    expect(approvalDecision(budget(10), null, 50).required).toBe(true);
  });

  it('gives a reason for every required approval', () => {
    expect(approvalDecision(manual, 1, 50).reason).toBe('the approval policy is manual');
    expect(approvalDecision(budget(10), 20, null).reason).toBe(
      'estimate $20.00 is above the budget of $10.00',
    );
  });

  it('is 50 USD unless configured, a number of dollars, or off', () => {
    expect(loadConfig({}).autoApproveMaxUsd).toBe(50);
    expect(loadConfig({ TUNEDROP_AUTO_APPROVE_MAX_USD: '12.5' }).autoApproveMaxUsd).toBe(12.5);
    expect(loadConfig({ TUNEDROP_AUTO_APPROVE_MAX_USD: 'off' }).autoApproveMaxUsd).toBeNull();
    expect(() => loadConfig({ TUNEDROP_AUTO_APPROVE_MAX_USD: 'lots' })).toThrow(
      /TUNEDROP_AUTO_APPROVE_MAX_USD/,
    );
  });
});
