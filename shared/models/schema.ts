/**
 * The shape of the model catalog (catalog.json and an operator's override), checked with zod at
 * load so a typo in a date or a limit is an error naming its path, never a silently wrong rule.
 */
import { z } from 'zod';
import { PART_KINDS, PROVIDERS } from './kinds.ts';

export { PART_KINDS, type PartKind, PROVIDERS, type Provider } from './kinds.ts';

export const PartKindSchema = z.enum(PART_KINDS);
export const ProviderSchema = z.enum(PROVIDERS);

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
const Count = z.number().int().positive();

export const ModelLimitsSchema = z.strictObject({
  /** Tokens per example: Vertex counts input and output together, Yandex prompt plus response. */
  maxTokensPerExample: Count,
  /** Yandex's separate prompt and response limits; null where the provider has none. */
  maxPromptTokens: Count.nullable(),
  maxResponseTokens: Count.nullable(),
  /** The fewest training examples the provider accepts; null where none is documented. */
  minTrainingExamples: Count.nullable(),
  maxValidationExamples: Count.nullable(),
  /** Vertex's "or 30% of training examples if there are more than 1000 validation examples". */
  validationShareOfTraining: z
    .strictObject({ share: z.number().positive().max(1), appliesAboveExamples: Count })
    .nullable(),
  maxTrainingFileBytes: Count,
  /** Null where the provider documents no maximum. */
  maxTrainingExamplesTextOnly: Count.nullable(),
  maxTrainingExamplesMultimodal: Count.nullable(),
});
export type ModelLimits = z.infer<typeof ModelLimitsSchema>;

export const PriceSchema = z
  .strictObject({
    /** USD per 1M training tokens; null where no public price is known. Never an invented figure. */
    usdPerMillionTrainingTokens: z.number().nonnegative().nullable(),
    source: z.string().min(1).nullable(),
    asOf: IsoDate.nullable(),
  })
  .refine((price) => price.usdPerMillionTrainingTokens === null || (price.source && price.asOf), {
    message: 'a price needs its source and its date',
  });
export type ModelPrice = z.infer<typeof PriceSchema>;

export const CatalogModelSchema = z.strictObject({
  /** Canonical id, as sent to the provider (Vertex `baseModel`, Yandex model name). */
  id: z.string().min(1),
  aliases: z.array(z.string().min(1)),
  provider: ProviderSchema,
  displayName: z.string().min(1),
  status: z.enum(['GA', 'preview']),
  releaseDate: IsoDate.nullable(),
  /**
   * confirmed: the provider lists the model as retired (or the date as firm). An unconfirmed date
   * ("2027-05-19 or later", or a listed date whose effect on new jobs is undocumented) only warns.
   */
  retirement: z.strictObject({ date: IsoDate, confirmed: z.boolean() }).nullable(),
  replacements: z.array(z.string().min(1)),
  limits: ModelLimitsSchema,
  /** Allowed LoRA adapter sizes; null where not checked (unknown, or no adapter-size enum). */
  adapterSizes: z
    .array(z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8), z.literal(16), z.literal(32)]))
    .nullable(),
  modalities: z.array(z.enum(['text', 'image', 'audio', 'video', 'document'])),
  partKinds: z.array(PartKindSchema),
  /** Regions that can run the tuning job; null where not stated (not checked). */
  tuningRegions: z.array(z.string().min(1)).nullable(),
  cmek: z.enum(['supported', 'unsupported', 'unknown']),
  continuousTuning: z.boolean().nullable(),
  /** Epochs tunedrop assumes for a cost estimate when the job gives none; null: no epochs at all. */
  defaultEpochs: Count.nullable(),
  price: PriceSchema,
  notes: z.array(z.string()),
});
export type CatalogModel = z.infer<typeof CatalogModelSchema>;

/** What an unknown model of a provider is checked with: the conservative end of the known ones. */
export const UnknownModelDefaultsSchema = z.strictObject({
  limits: ModelLimitsSchema,
  partKinds: z.array(PartKindSchema),
  modalities: CatalogModelSchema.shape.modalities,
  defaultEpochs: Count.nullable(),
});

export const CatalogSchema = z
  .strictObject({
    /** The date the catalog's facts were last checked against the providers' documentation. */
    factsAsOf: IsoDate,
    sources: z.record(z.string(), z.string()),
    unknownModelDefaults: z.strictObject({
      vertex: UnknownModelDefaultsSchema,
      yandex: UnknownModelDefaultsSchema,
    }),
    models: z.array(CatalogModelSchema),
  })
  .superRefine((catalog, ctx) => {
    const seen = new Map<string, number>();
    catalog.models.forEach((model, index) => {
      for (const name of [model.id, ...model.aliases]) {
        const previous = seen.get(name);
        if (previous !== undefined && previous !== index) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', index, 'id'],
            message: `"${name}" names two models (entries ${previous} and ${index})`,
          });
        }
        seen.set(name, index);
      }
    });
  });
export type Catalog = z.infer<typeof CatalogSchema>;

/** An operator's override: a newer facts date and whole new models or partial changes by id. */
export const CatalogOverrideSchema = z.strictObject({
  factsAsOf: IsoDate.optional(),
  models: z.array(z.looseObject({ id: z.string().min(1) })),
});
export type CatalogOverride = z.infer<typeof CatalogOverrideSchema>;
