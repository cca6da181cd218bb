/**
 * Yandex AI Studio's own tuning hyperparameters, as the manifest's `yandex` key, checked against
 * `TextToTextCompletionTuningParams` in yandex/cloud/ai/tuning/v1/tuning_service.proto (and
 * tuning_types/schedulers/optimizers.proto): LoRA or prompt tuning, an absolute learning rate,
 * n_samples, seed, scheduler, optimizer and a free-form additional_arguments string. Yandex has no
 * epochs, no adapter-size enum and no learning-rate multiplier. Every field is optional: an empty
 * `text_to_text_completion` uses the server's defaults. Strict objects, so a typo is an error
 * naming the field rather than a setting silently dropped.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const YandexLora = z.strictObject({
  rank: positiveInt.optional(),
  /** The proto types it as double and documents it as an integer value. */
  alpha: z.number().int().positive().optional(),
  /** Allowed values are not documented; passed through as given. */
  initialization: z.string().min(1).optional(),
  type: z.string().min(1).optional(),
});

export const YandexPromptTune = z.strictObject({ virtualTokens: positiveInt });

const MinLr = z.strictObject({ minLr: z.number().nonnegative().optional() });

export const YandexScheduler = z
  .strictObject({
    linear: MinLr.optional(),
    constant: z.strictObject({}).optional(),
    cosine: MinLr.optional(),
    warmupRatio: z.number().min(0).max(1).optional(),
  })
  .refine((value) => [value.linear, value.constant, value.cosine].filter(Boolean).length <= 1, {
    message: 'set at most one of linear, constant, cosine',
  });

export const YandexOptimizer = z.strictObject({
  adamw: z
    .strictObject({
      beta1: z.number().min(0).max(1).optional(),
      beta2: z.number().min(0).max(1).optional(),
      eps: z.number().positive().optional(),
      weightDecay: z.number().nonnegative().optional(),
    })
    .optional(),
});

export const YandexTuningParams = z
  .strictObject({
    seed: z.number().int().nonnegative().optional(),
    /** The absolute learning rate (Yandex has no multiplier). */
    lr: z.number().positive().optional(),
    nSamples: positiveInt.optional(),
    additionalArguments: z.string().optional(),
    lora: YandexLora.optional(),
    promptTune: YandexPromptTune.optional(),
    scheduler: YandexScheduler.optional(),
    optimizer: YandexOptimizer.optional(),
  })
  .refine((value) => !(value.lora && value.promptTune), {
    message: 'lora and promptTune are alternatives (one tuning type): set at most one',
    path: ['promptTune'],
  });
export type YandexTuningParams = z.infer<typeof YandexTuningParams>;
