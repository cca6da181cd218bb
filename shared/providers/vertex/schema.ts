/**
 * The parts of the Vertex AI v1 REST resources tunedrop reads, as zod schemas. Vertex encodes
 * int64 fields as JSON strings (proto3 JSON mapping) but also accepts numbers, so int64 fields are
 * read from either and turned into numbers. Unknown fields pass through untouched.
 */
import { z } from 'zod';

/** An int64 as proto3 JSON writes it: a decimal string (numbers are tolerated). */
export const Int64 = z
  .union([z.string().regex(/^-?\d+$/), z.number().int()])
  .transform((value) => Number(value));

export const RpcStatus = z.looseObject({
  code: z.number().int().optional(),
  message: z.string().optional(),
  details: z.array(z.unknown()).optional(),
});

export const TunedModelCheckpoint = z.looseObject({
  checkpointId: z.string().optional(),
  epoch: Int64.optional(),
  step: Int64.optional(),
  endpoint: z.string().optional(),
});

export const TuningJobResource = z.looseObject({
  name: z.string(),
  state: z.string().optional(),
  baseModel: z.string().optional(),
  preTunedModel: z
    .looseObject({
      tunedModelName: z.string().optional(),
      checkpointId: z.string().optional(),
      baseModel: z.string().optional(),
    })
    .optional(),
  tunedModelDisplayName: z.string().optional(),
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  createTime: z.string().optional(),
  startTime: z.string().optional(),
  endTime: z.string().optional(),
  updateTime: z.string().optional(),
  error: RpcStatus.optional(),
  experiment: z.string().optional(),
  tunedModel: z
    .looseObject({
      model: z.string().optional(),
      endpoint: z.string().optional(),
      checkpoints: z.array(TunedModelCheckpoint).optional(),
    })
    .optional(),
  tuningDataStats: z
    .looseObject({
      supervisedTuningDataStats: z
        .looseObject({
          tuningStepCount: Int64.optional(),
          tuningDatasetExampleCount: Int64.optional(),
          totalBillableTokenCount: Int64.optional(),
          // "Truncated" is legacy naming: these examples were dropped (v1 tuning_job.proto).
          totalTruncatedExampleCount: Int64.optional(),
          truncatedExampleIndices: z.array(Int64).optional(),
          droppedExampleReasons: z.array(z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
});
export type TuningJobResource = z.infer<typeof TuningJobResource>;

export const ListTuningJobsResponse = z.looseObject({
  tuningJobs: z.array(TuningJobResource).optional(),
  nextPageToken: z.string().optional(),
});

/** Google's error envelope (AIP-193). */
export const ErrorEnvelope = z.object({
  error: z.looseObject({
    code: z.number().int(),
    message: z.string().default(''),
    status: z.string().default('UNKNOWN'),
    details: z.array(z.unknown()).default([]),
  }),
});

/** The hyper-parameter values Vertex accepts for adapterSize, from tunedrop's short names. */
export const adapterSizeEnum = {
  ONE: 'ADAPTER_SIZE_ONE',
  TWO: 'ADAPTER_SIZE_TWO',
  FOUR: 'ADAPTER_SIZE_FOUR',
  EIGHT: 'ADAPTER_SIZE_EIGHT',
  SIXTEEN: 'ADAPTER_SIZE_SIXTEEN',
  THIRTY_TWO: 'ADAPTER_SIZE_THIRTY_TWO',
} as const;

/**
 * The parts of a v1 `Model` resource (`GET /v1/projects/{p}/locations/{l}/models/{m}`) that say which
 * base model a tuned model came from. The v1 Model has no field naming a tuned model's base:
 * `baseModelSource` only names Model Garden / GenIE sources. Vertex labels a tuned model with
 * `google-vertex-llm-tuning-base-model-id` (and `google-vertex-llm-tuning-job-id`); Google's
 * `@google/genai` SDK reads exactly that label as a tuned model's `baseModel`, and the Vertex AI
 * Python SDK as the tuning base model id. Its exact spelling for Gemini ids (label values cannot
 * hold dots) is UNCONFIRMED, so the reader accepts `.` written as `_` or `-` (vertex-models.ts).
 */
export const ModelResource = z.looseObject({
  name: z.string(),
  versionId: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  baseModelSource: z
    .looseObject({
      modelGardenSource: z.looseObject({ publicModelName: z.string().optional() }).optional(),
      genieSource: z.looseObject({ baseModelUri: z.string().optional() }).optional(),
    })
    .optional(),
});
export type ModelResource = z.infer<typeof ModelResource>;
