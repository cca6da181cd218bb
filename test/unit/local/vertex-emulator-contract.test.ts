import { describe, expect, it } from 'vitest';
import { checkpointEpochs } from '../../../local/vertex-emulator/checkpoints.ts';
import { parseMessage, withNumericEnums } from '../../../local/vertex-emulator/proto-json.ts';

describe('Vertex emulator checkpoint schedule', () => {
  it('takes one checkpoint per epoch up to ten epochs', () => {
    expect(checkpointEpochs(1, false)).toEqual([1]);
    expect(checkpointEpochs(3, false)).toEqual([1, 2, 3]);
    expect(checkpointEpochs(10, false)).toHaveLength(10);
  });

  it('takes about ten evenly spaced plus the final one beyond ten epochs', () => {
    const epochs = checkpointEpochs(40, false);
    expect(epochs).toHaveLength(11);
    expect(epochs.at(-1)).toBe(40);
    expect([...epochs].sort((a, b) => a - b)).toEqual(epochs);
    expect(checkpointEpochs(11, false).at(-1)).toBe(11);
    expect(new Set(checkpointEpochs(11, false)).size).toBe(checkpointEpochs(11, false).length);
  });

  it('takes only the final one when asked to export the last checkpoint only', () => {
    expect(checkpointEpochs(40, true)).toEqual([40]);
  });
});

describe('Vertex emulator proto3 JSON parsing of a TuningJob', () => {
  it('takes camelCase and snake_case, enum names and numbers, int64 numbers and strings', () => {
    const { value, violations } = parseMessage({
      base_model: 'gemini-3.5-flash',
      supervisedTuningSpec: {
        training_dataset_uri: 'gs://b/t.jsonl',
        hyper_parameters: { adapter_size: 6, epochCount: 12, learningRateMultiplier: '0.5' },
      },
    });
    expect(violations).toEqual([]);
    expect(value).toEqual({
      baseModel: 'gemini-3.5-flash',
      supervisedTuningSpec: {
        trainingDatasetUri: 'gs://b/t.jsonl',
        hyperParameters: { adapterSize: 'ADAPTER_SIZE_TWO', epochCount: '12', learningRateMultiplier: 0.5 },
      },
    });
  });

  it('treats null as not set', () => {
    expect(parseMessage({ baseModel: 'm', description: null }).value).toEqual({ baseModel: 'm' });
  });

  it('refuses unknown names, wrong types, both spellings of one field and two members of a oneof', () => {
    const { violations } = parseMessage({
      baseModel: 'm',
      base_model: 'm',
      preTunedModel: { tunedModelName: 'x' },
      labels: { team: 7 },
      supervisedTuningSpec: { trainingDatasetUri: 5, hyperParameters: { epochCount: 'ten' }, tuningMode: 1 },
    });
    const descriptions = violations.map((violation) => violation.description);
    expect(descriptions).toContain(
      'Invalid JSON payload received. Unknown name "tuningMode" at \'tuning_job.supervised_tuning_spec\': Cannot find field.',
    );
    expect(descriptions).toContain(
      "Invalid value at 'tuning_job.supervised_tuning_spec.training_dataset_uri' (TYPE_STRING), 5",
    );
    expect(descriptions).toContain(
      'Invalid value at \'tuning_job.supervised_tuning_spec.hyper_parameters.epoch_count\' (TYPE_INT64), "ten"',
    );
    expect(descriptions).toContain("Invalid value at 'tuning_job.labels[team]' (TYPE_STRING), 7");
    expect(descriptions.some((text) => text.includes('"base_model" is given twice'))).toBe(true);
    expect(descriptions.some((text) => text.includes("Oneof field 'source_model' is already set"))).toBe(
      true,
    );
  });

  it('answers with enum numbers on request, leaving the rest as it is', () => {
    const job = {
      name: 'n',
      state: 'JOB_STATE_SUCCEEDED',
      supervisedTuningSpec: { hyperParameters: { adapterSize: 'ADAPTER_SIZE_SIXTEEN', epochCount: '3' } },
    };
    expect(withNumericEnums(job)).toEqual({
      name: 'n',
      state: 4,
      supervisedTuningSpec: { hyperParameters: { adapterSize: 4, epochCount: '3' } },
    });
    expect(job.state).toBe('JOB_STATE_SUCCEEDED');
  });
});
