/**
 * The TuningService.Tune request tunedrop sends for a spec: the base model's gpt:// URI in the
 * deployment folder, the prepared datasets, the Yandex tuning parameters, a task name Yandex
 * accepts, and the labels that tie the task to its record and deployment (every later list,
 * lookup and cancel depends on them).
 */
import { tuningService } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { jobIdLabel, type TuningSpec } from '../../jobs/model.ts';
import type { YandexTuningParams } from '../../jobs/yandex-params.ts';
import { deploymentLabel } from '../types.ts';
import { managedLabel } from '../vertex/client.ts';

/** `gpt://<folder>/<model>/latest` for a catalog name; a full gpt:// URI is used as given. */
export function baseModelUri(baseModel: string, folderId: string): string {
  if (/^[a-z]+:\/\//.test(baseModel)) return baseModel;
  const [model, version] = baseModel.split('/');
  return `gpt://${folderId}/${model}/${version ?? 'latest'}`;
}

/** Yandex task names allow `[A-Za-z0-9 _-]{3,100}`; anything else becomes '-'. */
function taskName(spec: TuningSpec, recordId: string): string {
  const raw = spec.tunedModelDisplayName ?? `tunedrop ${recordId}`;
  const cleaned = raw.replace(/[^A-Za-z0-9 _-]/g, '-').slice(0, 100);
  return cleaned.length >= 3 ? cleaned : `tunedrop ${recordId}`;
}

export function toTextToTextParams(params: YandexTuningParams | undefined) {
  const p = params ?? {};
  return tuningService.TextToTextCompletionTuningParams.fromPartial({
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    ...(p.lr !== undefined ? { lr: p.lr } : {}),
    ...(p.nSamples !== undefined ? { nSamples: p.nSamples } : {}),
    ...(p.additionalArguments !== undefined ? { additionalArguments: p.additionalArguments } : {}),
    ...(p.lora ? { lora: p.lora } : {}),
    ...(p.promptTune ? { promptTune: p.promptTune } : {}),
    ...(p.scheduler ? { scheduler: p.scheduler } : {}),
    ...(p.optimizer ? { optimizer: p.optimizer } : {}),
  });
}

/** The Tune request for a spec; tunedrop's labels are merged over the user's. */
export function toTuningRequest(
  spec: TuningSpec,
  recordId: string,
  folderId: string,
  datasets: { train: string; validation?: string },
  deploymentId: string,
) {
  return tuningService.TuningRequest.fromPartial({
    baseModelUri: baseModelUri(spec.baseModel, folderId),
    trainDatasets: [{ datasetId: datasets.train, weight: 1 }],
    ...(datasets.validation ? { validationDataset: { datasetId: datasets.validation, weight: 1 } } : {}),
    textToTextCompletion: toTextToTextParams(spec.yandex),
    name: taskName(spec, recordId),
    description: spec.description ?? '',
    labels: {
      ...spec.labels,
      [jobIdLabel]: recordId,
      [managedLabel]: 'true',
      [deploymentLabel]: deploymentId,
    },
  });
}
