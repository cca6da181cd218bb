/**
 * What of a shared Yandex folder is this deployment's: the tasks and datasets labelled
 * `tunedrop-deployment` with its id. Several deployments (staging and prod, two teams) may use one
 * folder; each lists, adopts, tunes, cancels and frees only its own. What an older tunedrop made
 * (a record id label, no deployment label) may be anyone's: a task is seen only by a lookup of its
 * record id (it may be this deployment's own start from before the upgrade), a dataset is freed
 * only when this deployment's record names it; the rest is named once per process so an operator
 * can label it for its deployment or delete it.
 */
import type { tuningTask } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { jobIdLabel } from '../../jobs/model.ts';
import type { Logger } from '../../logging/index.ts';
import { type DeleteDatasetOptions, deploymentLabel, type HeldDataset, ProviderError } from '../types.ts';

export interface DeploymentScope {
  readonly deploymentId: string;
  /** Whether a task or dataset with these labels is this deployment's. */
  ours(labels: Record<string, string>): boolean;
  /** Whether tunedrop made it before deployments were labelled: it may be anyone's. */
  unlabelled(labels: Record<string, string>): boolean;
  /** Logs (once per process) the tunedrop tasks of a listing that carry no deployment label. */
  noteUnlabelled(tasks: readonly tuningTask.TuningTask[]): void;
  /**
   * Throws (permanent) unless the dataset is this deployment's, by its label or, made before the
   * label, by one of this deployment's records naming it: a delete cannot be undone.
   */
  checkDeletable(dataset: HeldDataset, options?: DeleteDatasetOptions): void;
}

export function deploymentScope(
  deploymentId: string,
  nameOf: (taskId: string) => string,
  logger?: Logger,
): DeploymentScope {
  let unlabelledLogged = false;
  return {
    deploymentId,
    ours: (labels) => labels[deploymentLabel] === deploymentId,
    unlabelled: (labels) => Boolean(labels[jobIdLabel]) && !labels[deploymentLabel],
    noteUnlabelled(tasks) {
      if (unlabelledLogged) return;
      const unlabelled = tasks.filter((task) => task.labels[jobIdLabel] && !task.labels[deploymentLabel]);
      if (unlabelled.length === 0) return;
      unlabelledLogged = true;
      logger?.warn(
        `yandex tuning tasks without the ${deploymentLabel} label (made by an older tunedrop) are ignored: ` +
          'never listed or cancelled as a duplicate; seen only by a lookup of their record id (an interrupted start from before the upgrade adopts its task). ' +
          `To hand them to this deployment, label them ${deploymentLabel}=${deploymentId}; otherwise leave or delete them by hand`,
        { deploymentId, tasks: unlabelled.slice(0, 20).map((task) => nameOf(task.taskId)) },
      );
    },
    checkDeletable(dataset, options) {
      if (dataset.deployment === deploymentId) return;
      if (dataset.deployment === undefined && options?.namedByOwnRecord) return;
      throw new ProviderError(
        `yandex dataset ${dataset.id} is not this deployment's (${deploymentLabel}=${dataset.deployment ?? 'unset'}, this deployment is ${deploymentId}); not deleted`,
        412,
        'FAILED_PRECONDITION',
        false,
      );
    },
  };
}
