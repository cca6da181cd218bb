/**
 * The rules for the parts of a turn (or of `systemInstruction`): exactly one data field per part,
 * of a kind the model accepts, each kind's own shape, and what each part adds to the example's
 * metrics (characters, bytes for the token bound, media parts).
 */
import { base64Problem } from './base64.ts';
import type { ExampleMetrics } from './example-rules.ts';
import { fieldName } from './field-name.ts';
import { MAX_FREE_FORM_DEPTH, nestsDeeperThan } from './json-depth.ts';
import { describe, escapePointer, isObject, nonEmptyString } from './json-values.ts';
import { type ModelSpec, PART_KINDS, type PartKind } from './models.ts';

/** Reports one error of the current example (a Reporter with the severity fixed). */
export type ErrorSink = (code: string, path: string, message: string) => void;

// Part fields that are not data (v1 content.proto): allowed beside the one data field.
const PART_METADATA_FIELDS = new Set([
  'thought',
  'thoughtSignature',
  'videoMetadata',
  'partMetadata',
  'mediaResolution',
]);
const PART_KIND_SET: ReadonlySet<string> = new Set(PART_KINDS);

/**
 * Checks the `parts` list at `path` (a turn, or `systemInstruction` with `textOnly`), reporting
 * every problem through `error` and adding what valid parts hold to `metrics`.
 */
export function checkParts(
  parts: unknown,
  path: string,
  model: ModelSpec,
  error: ErrorSink,
  metrics: ExampleMetrics,
  textOnly: boolean,
): void {
  if (!Array.isArray(parts)) {
    error(
      parts === undefined ? 'missing_parts' : 'invalid_parts',
      `${path}/parts`,
      `\`${fieldName(`${path}/parts`)}\` must be a non-empty list, got ${parts === undefined ? 'nothing' : describe(parts)}`,
    );
    return;
  }
  if (parts.length === 0) {
    error('empty_parts', `${path}/parts`, `\`${fieldName(`${path}/parts`)}\` is empty`);
    return;
  }
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    const partPath = `${path}/parts/${p}`;
    if (!isObject(part)) {
      error(
        'invalid_part',
        partPath,
        `\`${fieldName(partPath)}\` must be a part object, got ${describe(part)}`,
      );
      continue;
    }
    metrics.parts++;
    let kind: PartKind | undefined;
    let kinds = 0;
    for (const key in part) {
      if (PART_KIND_SET.has(key)) {
        if (part[key] === undefined) continue;
        kinds++;
        kind = key as PartKind;
      } else if (!PART_METADATA_FIELDS.has(key)) {
        error(
          'unknown_part_field',
          `${partPath}/${escapePointer(key)}`,
          `Unknown field \`${key}\` in ${fieldName(partPath)}`,
        );
      }
    }
    if (kinds === 0 || !kind) {
      error('part_no_data', partPath, `\`${fieldName(partPath)}\` needs one of: ${PART_KINDS.join(', ')}`);
      continue;
    }
    if (kinds > 1) {
      error(
        'part_multiple_data',
        partPath,
        `\`${fieldName(partPath)}\` carries more than one data field; a part carries exactly one, so split it into several parts`,
      );
      continue;
    }
    if (textOnly && kind !== 'text') {
      error(
        'system_instruction_part',
        `${partPath}/${kind}`,
        `\`${fieldName(partPath)}\` is ${kind}: \`systemInstruction\` takes text parts only`,
      );
      continue;
    }
    if (!model.partKinds.includes(kind)) {
      error(
        'unsupported_part',
        `${partPath}/${kind}`,
        `\`${fieldName(`${partPath}/${kind}`)}\`: ${model.id} does not accept ${kind} parts in tuning data`,
      );
      continue;
    }
    checkPartData(kind, part[kind], `${partPath}/${kind}`, error, metrics);
  }
}

function checkPartData(
  kind: PartKind,
  data: unknown,
  path: string,
  error: ErrorSink,
  metrics: ExampleMetrics,
): void {
  switch (kind) {
    case 'text':
      if (typeof data !== 'string')
        error('invalid_text', path, `\`${fieldName(path)}\` must be a string, got ${describe(data)}`);
      else if (data.length === 0) error('empty_text', path, `\`${fieldName(path)}\` is empty`);
      else {
        metrics.characters += data.length;
        metrics.contentBytes += Buffer.byteLength(data, 'utf8');
      }
      return;
    case 'inlineData':
    case 'fileData': {
      const uriField = kind === 'inlineData' ? 'data' : 'fileUri';
      const code = kind === 'inlineData' ? 'invalid_inline_data' : 'invalid_file_data';
      if (!isObject(data)) {
        error(
          code,
          path,
          `\`${fieldName(path)}\` must be an object {mimeType, ${uriField}}, got ${describe(data)}`,
        );
        return;
      }
      if (!nonEmptyString(data.mimeType))
        error(code, `${path}/mimeType`, `\`${fieldName(path)}.mimeType\` must be a non-empty string`);
      const payload = data[uriField];
      if (!nonEmptyString(payload)) {
        error(code, `${path}/${uriField}`, `\`${fieldName(path)}.${uriField}\` must be a non-empty string`);
      } else if (kind === 'inlineData') {
        const problem = base64Problem(payload);
        if (problem)
          error('invalid_base64', `${path}/data`, `\`${fieldName(path)}.data\` must be base64: ${problem}`);
      }
      metrics.mediaParts++;
      return;
    }
    case 'functionCall':
    case 'functionResponse': {
      const code = kind === 'functionCall' ? 'invalid_function_call' : 'invalid_function_response';
      if (!isObject(data)) {
        error(code, path, `\`${fieldName(path)}\` must be an object, got ${describe(data)}`);
        return;
      }
      if (!nonEmptyString(data.name))
        error(code, `${path}/name`, `\`${fieldName(path)}.name\` must be a non-empty string`);
      const payload = kind === 'functionCall' ? 'args' : 'response';
      if (kind === 'functionResponse' && !isObject(data.response)) {
        error(code, `${path}/response`, `\`${fieldName(path)}.response\` must be an object`);
      } else if (data[payload] !== undefined && !isObject(data[payload])) {
        error(code, `${path}/${payload}`, `\`${fieldName(path)}.${payload}\` must be an object`);
      }
      addJsonBytes(data, path, error, metrics);
      return;
    }
    case 'executableCode':
      if (!isObject(data) || !nonEmptyString(data.code)) {
        error(
          'invalid_executable_code',
          path,
          `\`${fieldName(path)}\` must be an object with a non-empty \`code\``,
        );
        return;
      }
      addJsonBytes(data, path, error, metrics);
      return;
    case 'codeExecutionResult':
      if (!isObject(data) || !nonEmptyString(data.outcome)) {
        error(
          'invalid_code_execution_result',
          path,
          `\`${fieldName(path)}\` must be an object with an \`outcome\``,
        );
        return;
      }
      addJsonBytes(data, path, error, metrics);
      return;
  }
}

/**
 * Adds the UTF-8 bytes of a free-form value's JSON to the token bound, after making sure it nests
 * no deeper than a provider can parse: JSON.stringify is recursive and would overflow the stack on
 * a hostile value, which must instead be this example's error, with its line and path.
 */
function addJsonBytes(data: unknown, path: string, error: ErrorSink, metrics: ExampleMetrics): void {
  if (nestsDeeperThan(data, MAX_FREE_FORM_DEPTH)) {
    error(
      'too_deeply_nested',
      path,
      `The value nests more than ${MAX_FREE_FORM_DEPTH} levels deep; Protocol Buffers' JSON parsers refuse it`,
    );
    return;
  }
  metrics.contentBytes += Buffer.byteLength(JSON.stringify(data), 'utf8');
}
