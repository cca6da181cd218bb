/**
 * The catalog's enumerations as plain constants, apart from the zod schemas (schema.ts builds its
 * enums from them): the validator's hot path and its worker threads use them without loading zod.
 */

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

export const PROVIDERS = ['vertex', 'yandex'] as const;
export type Provider = (typeof PROVIDERS)[number];
