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
  switch (policy.mode) {
    case 'auto':
      return false;
    case 'manual':
      return true;
    case 'budget':
      return estimateUsd === null || estimateUsd === undefined || estimateUsd > policy.maxCostUsd;
  }
}
