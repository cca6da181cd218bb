/**
 * What the emulator's DatasetService.Validate checks, as Yandex documents the TextToTextGeneration
 * jsonlines format: one JSON object per line with `request` (a non-empty array of
 * {role: system|user|assistant, text}) and a string `response`, and at least 10 rows. Errors are
 * grouped by kind with the row numbers that have them, like `ValidateDatasetResponse.errors`.
 * Row numbers are 1-based line numbers (the real service's numbering is not documented).
 */

export interface RowError {
  error: string;
  errorDescription: string;
  rowNumbers: number[];
}

export interface DatasetCheck {
  isValid: boolean;
  totalRows: number;
  validRows: number;
  errors: RowError[];
}

export const minRows = 10;
const roles = new Set(['system', 'user', 'assistant']);

/** The problem with one row, or undefined when it is a valid example. */
function rowProblem(line: string): { error: string; description: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'INVALID_JSON', description: 'the row is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'INVALID_JSON', description: 'the row is not a JSON object' };
  const row = value as Record<string, unknown>;
  if (!('request' in row)) return { error: 'MISSING_FIELD', description: 'field "request" is missing' };
  if (!('response' in row)) return { error: 'MISSING_FIELD', description: 'field "response" is missing' };
  if (!Array.isArray(row.request) || row.request.length === 0)
    return { error: 'INVALID_FIELD', description: '"request" must be a non-empty array of messages' };
  for (const message of row.request) {
    if (typeof message !== 'object' || message === null)
      return { error: 'INVALID_FIELD', description: 'every "request" message must be an object' };
    const { role, text } = message as Record<string, unknown>;
    if (typeof role !== 'string' || !roles.has(role))
      return { error: 'INVALID_ROLE', description: 'role must be one of system, user, assistant' };
    if (typeof text !== 'string')
      return { error: 'INVALID_FIELD', description: 'every "request" message needs a string "text"' };
  }
  if (typeof row.response !== 'string')
    return { error: 'INVALID_FIELD', description: '"response" must be a string' };
  return undefined;
}

export function checkTextToTextDataset(bytes: Buffer): DatasetCheck {
  const lines = bytes.toString('utf8').split(/\r?\n/);
  const byKind = new Map<string, RowError>();
  let totalRows = 0;
  let validRows = 0;
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    totalRows++;
    const problem = rowProblem(line);
    if (!problem) {
      validRows++;
      return;
    }
    const key = `${problem.error}\u0000${problem.description}`;
    const entry = byKind.get(key) ?? {
      error: problem.error,
      errorDescription: problem.description,
      rowNumbers: [],
    };
    entry.rowNumbers.push(index + 1);
    byKind.set(key, entry);
  });
  const errors = [...byKind.values()];
  if (validRows < minRows) {
    errors.push({
      error: 'TOO_FEW_ROWS',
      errorDescription: `at least ${minRows} valid rows are required, the dataset has ${validRows}`,
      rowNumbers: [],
    });
  }
  return { isValid: errors.length === 0, totalRows, validRows, errors };
}
