import { describe, expect, it } from 'vitest';
import { baseModelUri, toTuningRequest } from '../../../../shared/providers/yandex/index.ts';

describe('the Yandex Tune request tunedrop sends', () => {
  it('turns a catalog name into a gpt:// URI in the deployment folder and keeps a full URI', () => {
    expect(baseModelUri('yandexgpt-lite', 'b1gf')).toBe('gpt://b1gf/yandexgpt-lite/latest');
    expect(baseModelUri('yandexgpt-lite/rc', 'b1gf')).toBe('gpt://b1gf/yandexgpt-lite/rc');
    expect(baseModelUri('gpt://other/yandexgpt/latest', 'b1gf')).toBe('gpt://other/yandexgpt/latest');
  });

  it('carries the record id, the managed marker and the deployment in labels, the datasets, and every hyperparameter', () => {
    const request = toTuningRequest(
      {
        provider: 'yandex',
        baseModel: 'yandexgpt-lite',
        trainingDatasetUri: 'gs://b/validated/x/train.jsonl',
        tunedModelDisplayName: 'support bot: v2!',
        labels: { team: 'support' },
        yandex: {
          seed: 1,
          lr: 0.0002,
          nSamples: 100,
          lora: { rank: 8, alpha: 16 },
          scheduler: { linear: { minLr: 0.00001 }, warmupRatio: 0.1 },
          optimizer: { adamw: { beta1: 0.9 } },
        },
      },
      'rec1',
      'b1gf',
      { train: 'fdsA', validation: 'fdsB' },
      'd0a1b2c3d4e5f607',
    );
    expect(request).toMatchObject({
      baseModelUri: 'gpt://b1gf/yandexgpt-lite/latest',
      trainDatasets: [{ datasetId: 'fdsA', weight: 1 }],
      validationDataset: { datasetId: 'fdsB', weight: 1 },
      name: 'support bot- v2-',
      labels: {
        team: 'support',
        'tunedrop-job-id': 'rec1',
        'tunedrop-managed': 'true',
        'tunedrop-deployment': 'd0a1b2c3d4e5f607',
      },
      textToTextCompletion: {
        seed: 1,
        lr: 0.0002,
        nSamples: 100,
        lora: { rank: 8, alpha: 16 },
        scheduler: { linear: { minLr: 0.00001 }, warmupRatio: 0.1 },
        optimizer: { adamw: { beta1: 0.9 } },
      },
    });
    expect(request.textToTextCompletion?.promptTune).toBeUndefined();
  });

  it('sends an empty text_to_text_completion (Yandex defaults) when the manifest sets none', () => {
    const request = toTuningRequest(
      { provider: 'yandex', baseModel: 'yandexgpt-lite', trainingDatasetUri: 'gs://b/o', labels: {} },
      'rec2',
      'b1gf',
      { train: 'fdsA' },
      'd0a1b2c3d4e5f607',
    );
    expect(request.textToTextCompletion).toMatchObject({
      seed: 0,
      lr: 0,
      nSamples: 0,
      additionalArguments: '',
    });
    expect(request.validationDataset).toBeUndefined();
    expect(request.name).toBe('tunedrop rec2');
  });
});
