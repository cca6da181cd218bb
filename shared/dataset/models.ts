import { PermanentError } from '../errors/index.ts';

/** The data fields of Vertex AI's `Part` oneof; a part carries exactly one of them. */
export const PART_KINDS = [
  'text',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
  'executableCode',
  'codeExecutionResult',
] as const;
export type PartKind = (typeof PART_KINDS)[number];

/** Limits of one tunable base model. Extend the table below to add a model. */
export interface ModelSpec {
  /** Canonical id, as passed to Vertex AI as `baseModel`. */
  id: string;
  /** Other ids users pass for the same model (aliases, pinned versions). */
  aliases: string[];
  displayName: string;
  /** Tokens per example (input and output together, the whole conversation). */
  maxTokensPerExample: number;
  maxValidationExamples: number;
  maxTrainingFileBytes: number;
  maxTrainingExamples: number;
  /** Part kinds the model accepts in tuning data. */
  parts: readonly PartKind[];
  /** USD per 1M training tokens, or null where no public price is known (see PRICES_TAKEN_ON). */
  pricePerMillionTrainingTokens: number | null;
  /** Epochs assumed for the cost estimate when the caller gives none (tunedrop's default, see below). */
  defaultEpochs: number;
}

const GB = 1024 ** 3;
const ALL_PARTS = PART_KINDS;
// Vertex AI rejects function calls in tuning data for the 2.5 family.
const NO_FUNCTION_CALL = PART_KINDS.filter((kind) => kind !== 'functionCall');

/**
 * Prices: Vertex AI generative AI pricing page, "Tuning" section, USD per 1M training tokens
 * (https://cloud.google.com/vertex-ai/generative-ai/pricing), as published on the date below.
 * The 1.x models are retired for new tuning jobs and have no current price: their estimate
 * reports the tokens and a null cost rather than an invented figure.
 */
export const PRICES_TAKEN_ON = '2025-07-01';
export const PRICE_SOURCE = 'https://cloud.google.com/vertex-ai/generative-ai/pricing';

/**
 * Default epochs: Vertex AI picks an epoch count itself when none is given; tunedrop assumes
 * 3 for an estimate (4 for the 1.x family, whose tuning docs recommended 4) and says so in the
 * report. A job manifest or `--epochs` overrides it.
 */
const GEMINI_2 = {
  maxTokensPerExample: 131_072,
  maxValidationExamples: 5_000,
  maxTrainingFileBytes: 1 * GB,
  maxTrainingExamples: 10_000_000,
  defaultEpochs: 3,
} as const;
const GEMINI_1 = {
  maxTokensPerExample: 32_768,
  maxValidationExamples: 256,
  maxTrainingFileBytes: 1 * GB,
  maxTrainingExamples: 10_000_000,
  pricePerMillionTrainingTokens: null,
  defaultEpochs: 4,
} as const;

/** The one table of tunable models. */
export const MODELS: readonly ModelSpec[] = [
  {
    id: 'gemini-2.5-pro',
    aliases: [],
    displayName: 'Gemini 2.5 Pro',
    ...GEMINI_2,
    parts: NO_FUNCTION_CALL,
    pricePerMillionTrainingTokens: 25,
  },
  {
    id: 'gemini-2.5-flash',
    aliases: [],
    displayName: 'Gemini 2.5 Flash',
    ...GEMINI_2,
    parts: NO_FUNCTION_CALL,
    pricePerMillionTrainingTokens: 5,
  },
  {
    id: 'gemini-2.5-flash-lite',
    aliases: [],
    displayName: 'Gemini 2.5 Flash-Lite',
    ...GEMINI_2,
    parts: NO_FUNCTION_CALL,
    pricePerMillionTrainingTokens: 1.5,
  },
  {
    id: 'gemini-2.0-flash-001',
    aliases: ['gemini-2.0-flash'],
    displayName: 'Gemini 2.0 Flash',
    ...GEMINI_2,
    parts: ALL_PARTS,
    pricePerMillionTrainingTokens: 3,
  },
  {
    id: 'gemini-2.0-flash-lite-001',
    aliases: ['gemini-2.0-flash-lite'],
    displayName: 'Gemini 2.0 Flash-Lite',
    ...GEMINI_2,
    parts: ALL_PARTS,
    pricePerMillionTrainingTokens: 1,
  },
  {
    id: 'gemini-1.5-pro-002',
    aliases: ['gemini-1.5-pro'],
    displayName: 'Gemini 1.5 Pro',
    ...GEMINI_1,
    parts: ['text', 'inlineData', 'fileData'],
  },
  {
    id: 'gemini-1.5-flash-002',
    aliases: ['gemini-1.5-flash'],
    displayName: 'Gemini 1.5 Flash',
    ...GEMINI_1,
    parts: ['text', 'inlineData', 'fileData'],
  },
  {
    id: 'gemini-1.0-pro-002',
    aliases: ['gemini-1.0-pro'],
    displayName: 'Gemini 1.0 Pro',
    ...GEMINI_1,
    parts: ['text'],
  },
];

export class UnknownModelError extends PermanentError {
  constructor(id: string) {
    super(
      `Unknown model "${id}". Known models: ${MODELS.map((model) => model.id).join(', ')}`,
      'unknown_model',
      { id, known: MODELS.map((model) => model.id) },
    );
  }
}

const RESOURCE_PREFIX = /^(?:projects\/[^/]+\/locations\/[^/]+\/)?publishers\/google\/models\//;

/** The spec of a model id, alias or `publishers/google/models/<id>` name, or undefined. */
export function findModel(id: string): ModelSpec | undefined {
  const bare = id.trim().replace(RESOURCE_PREFIX, '');
  return MODELS.find((model) => model.id === bare || model.aliases.includes(bare));
}

/** Like findModel, but throws UnknownModelError (a PermanentError) listing the known models. */
export function requireModel(id: string): ModelSpec {
  const model = findModel(id);
  if (!model) throw new UnknownModelError(id);
  return model;
}
