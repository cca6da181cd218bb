/**
 * The approval policy: whether a job starts at once or waits as a DRAFT for a person. The
 * deployment sets the default (config.approval); a manifest or an object's metadata may ask for a
 * stricter policy, never a looser one: a team that requires approval cannot be bypassed by an
 * upload. Strictness: manual > budget (a lower cap is stricter) > auto.
 */
import type { ApprovalPolicy } from '../config/index.ts';

export interface EffectivePolicy {
  policy: ApprovalPolicy;
  /** Set when the upload asked for a looser policy than the deployment's, which was kept. */
  warning?: string;
}

const rank = { auto: 0, budget: 1, manual: 2 } as const;

export function describePolicy(policy: ApprovalPolicy): string {
  return policy.mode === 'budget' ? `budget (auto up to ${policy.maxCostUsd} USD)` : policy.mode;
}

/** True when `a` lets no job start that `b` would stop (a is at least as strict as b). */
export function isAtLeastAsStrict(a: ApprovalPolicy, b: ApprovalPolicy): boolean {
  if (a.mode === 'budget' && b.mode === 'budget') return a.maxCostUsd <= b.maxCostUsd;
  return rank[a.mode] >= rank[b.mode];
}

/** The policy a job gets: the requested one when at least as strict as the deployment's. */
export function effectivePolicy(deployment: ApprovalPolicy, requested?: ApprovalPolicy): EffectivePolicy {
  if (requested === undefined) return { policy: deployment };
  if (isAtLeastAsStrict(requested, deployment)) return { policy: requested };
  return {
    policy: deployment,
    warning: `approval "${describePolicy(requested)}" is looser than the deployment's "${describePolicy(deployment)}"; the deployment's policy applies`,
  };
}

/**
 * Whether a job needs a person's approval. Under a budget, a job with no estimate (a model with
 * no published price) needs approval: tunedrop cannot show it is under the cap.
 */
export function needsApproval(policy: ApprovalPolicy, estimateUsd: number | null | undefined): boolean {
  return approvalDecision(policy, estimateUsd).required;
}

export interface ApprovalDecision {
  required: boolean;
  /** Why a person must approve, for the record, the report and the console. */
  reason?: string;
}

/** Dollars and cents; a non-zero amount below a cent keeps two significant digits. */
const usd = (value: number) => `$${value > 0 && value < 0.01 ? value.toPrecision(2) : value.toFixed(2)}`;

/**
 * The policy's answer, then the deployment's automatic-start ceiling
 * (TUNEDROP_AUTO_APPROVE_MAX_USD; null when the operator turned it off): a job whose estimate is
 * above it never starts on its own, whatever the policy, so one mistaken upload cannot start an
 * expensive job unseen. A job with no estimate is left to the policy (the ceiling judges estimates).
 */
export function approvalDecision(
  policy: ApprovalPolicy,
  estimateUsd: number | null | undefined,
  autoApproveMaxUsd: number | null = null,
): ApprovalDecision {
  const known = estimateUsd !== null && estimateUsd !== undefined;
  if (policy.mode === 'manual') return { required: true, reason: 'the approval policy is manual' };
  if (policy.mode === 'budget') {
    if (!known) {
      return {
        required: true,
        reason: `no cost estimate (the model has no published price) to compare with the budget of ${usd(policy.maxCostUsd)}`,
      };
    }
    if (estimateUsd > policy.maxCostUsd) {
      return {
        required: true,
        reason: `estimate ${usd(estimateUsd)} is above the budget of ${usd(policy.maxCostUsd)}`,
      };
    }
  }
  if (known && autoApproveMaxUsd !== null && estimateUsd > autoApproveMaxUsd) {
    return {
      required: true,
      reason: `estimate ${usd(estimateUsd)} is above TUNEDROP_AUTO_APPROVE_MAX_USD (${usd(autoApproveMaxUsd)}): approve it to start`,
    };
  }
  return { required: false };
}
