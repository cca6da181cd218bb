import {
  type ValidateOptions,
  type ValidationReport,
  validateDataset,
} from '../../../shared/dataset/index.ts';

export const user = (text: string) => ({ role: 'user', parts: [{ text }] });
export const model = (text: string) => ({ role: 'model', parts: [{ text }] });
export const example = (extra: Record<string, unknown> = {}) => ({
  contents: [user('Hi'), model('Hello!')],
  ...extra,
});
export const line = (value: unknown) => JSON.stringify(value);

/** Streams `chunks` (strings or bytes) through the validator. */
export async function validate(
  chunks: (string | Uint8Array)[] | string,
  options: Partial<ValidateOptions> = {},
): Promise<ValidationReport> {
  const list = typeof chunks === 'string' ? [chunks] : chunks;
  async function* source() {
    for (const chunk of list) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  }
  return validateDataset(source(), { model: 'gemini-3.5-flash', ...options });
}

export const codes = (report: ValidationReport) => report.errors.map((error) => error.code);

/** Warnings about lines, without the file-level ones (such as few_examples on a tiny file). */
export const lineWarnings = (report: ValidationReport) =>
  report.warnings.filter((warning) => warning.line > 0);
