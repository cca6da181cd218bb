import { base64Problem } from './base64.ts';
import { fieldName } from './field-name.ts';
import { detectMistakenFormat, mistakenFormatMessage } from './formats.ts';
import { MAX_FREE_FORM_DEPTH, nestsDeeperThan } from './json-depth.ts';
import { type ModelSpec, PART_KINDS, type PartKind } from './models.ts';
import { normalizeFieldNames } from './proto-json.ts';

/** Receives one finding about the current line: `path` is a JSON pointer into the line. */
export type Reporter = (severity: 'error' | 'warning', code: string, path: string, message: string) => void;

/** What one example holds, for the token bound and the stats. */
export interface ExampleMetrics {
  turns: number;
  parts: number;
  /** UTF-16 code units of text, the "characters" of the stats. */
  characters: number;
  /** UTF-8 bytes of text parts plus the JSON of function/code parts: the token bound's input. */
  contentBytes: number;
  /** inlineData and fileData parts: not bounded by bytes, see tokens.ts. */
  mediaParts: number;
  hasSystemInstruction: boolean;
}

export function emptyMetrics(): ExampleMetrics {
  return { turns: 0, parts: 0, characters: 0, contentBytes: 0, mediaParts: 0, hasSystemInstruction: false };
}

// The example-level fields of Vertex AI's tuning format: `tools` (function declarations) and
// `generationConfig` (e.g. `mediaResolution`) appear in Google's tuning data examples.
const TOP_LEVEL_FIELDS = new Set([
  'contents',
  'systemInstruction',
  'tools',
  'toolConfig',
  'generationConfig',
]);
// Part fields that are not data (v1 content.proto): allowed beside the one data field.
const PART_METADATA_FIELDS = new Set([
  'thought',
  'thoughtSignature',
  'videoMetadata',
  'partMetadata',
  'mediaResolution',
]);
const PART_KIND_SET: ReadonlySet<string> = new Set(PART_KINDS);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Checks one parsed line against the Gemini supervised-tuning format and the model's part kinds.
 * Reports every finding (not just the first) and fills `metrics`. Returns true when the example
 * has no error. Field names may be camelCase or snake_case (proto3 JSON); with `mayHaveSnakeCase`
 * false (the line has no underscore at all) the renaming pass is skipped.
 */
export function checkExample(
  value: unknown,
  line: number,
  model: ModelSpec,
  report: Reporter,
  metrics: ExampleMetrics,
  mayHaveSnakeCase = true,
): boolean {
  let valid = true;
  const error = (code: string, path: string, message: string) => {
    valid = false;
    report('error', code, path, message);
  };

  if (!isObject(value)) {
    error('not_object', '', `Line is ${describe(value)}, not a JSON object`);
    return false;
  }
  if (mayHaveSnakeCase && !normalizeFieldNames(value, report)) valid = false;
  const contents = value.contents;
  if (contents === undefined) {
    const format = detectMistakenFormat(value);
    if (format) error('wrong_format', '', mistakenFormatMessage(format, line, model.id));
    else error('missing_contents', '/contents', 'Missing `contents`: a non-empty list of {role, parts}');
    return false;
  }

  for (const key in value) {
    if (!TOP_LEVEL_FIELDS.has(key)) {
      report(
        'warning',
        'unknown_field',
        `/${escapePointer(key)}`,
        `Unknown field \`${key}\` at the top level of the example: tuning ignores it`,
      );
    }
  }

  if (!Array.isArray(contents)) {
    error('invalid_contents', '/contents', `\`contents\` must be a list, got ${describe(contents)}`);
  } else if (contents.length === 0) {
    error(
      'empty_contents',
      '/contents',
      '`contents` is empty: an example needs a user turn and a model turn',
    );
  } else {
    let previousRole: unknown;
    for (let t = 0; t < contents.length; t++) {
      const turn = contents[t];
      const path = `/contents/${t}`;
      if (!isObject(turn)) {
        error(
          'invalid_turn',
          path,
          `\`${fieldName(path)}\` must be a turn {role, parts}, got ${describe(turn)}`,
        );
        previousRole = undefined;
        continue;
      }
      metrics.turns++;
      for (const key in turn) {
        if (key !== 'role' && key !== 'parts') {
          report(
            'warning',
            'unknown_field',
            `${path}/${escapePointer(key)}`,
            `Unknown field \`${key}\` in ${fieldName(path)}: tuning ignores it`,
          );
        }
      }
      const role = turn.role;
      if (role !== 'user' && role !== 'model') {
        const hint =
          role === 'assistant'
            ? ' (use "model" for replies)'
            : role === 'system'
              ? ' (put system text in `systemInstruction`)'
              : '';
        if (role === undefined)
          error('missing_role', `${path}/role`, `\`${fieldName(path)}.role\` is missing: "user" or "model"`);
        else
          error(
            'invalid_role',
            `${path}/role`,
            `\`${fieldName(path)}.role\` must be "user" or "model", got ${JSON.stringify(role)}${hint}`,
          );
      } else if (t === 0 && role !== 'user') {
        error(
          'first_role',
          `${path}/role`,
          `\`${fieldName(path)}.role\` must be "user": the first turn is the user's`,
        );
      } else if (role === previousRole) {
        error(
          'role_order',
          `${path}/role`,
          `\`${fieldName(path)}.role\` is "${role}" again: roles must alternate, two "${role}" turns in a row`,
        );
      }
      if (t === contents.length - 1 && role === 'user') {
        error(
          'last_role',
          `${path}/role`,
          `\`${fieldName(path)}.role\` must be "model": the last turn is what the model learns to say`,
        );
      }
      previousRole = role;
      checkParts(turn.parts, path, model, error, metrics, false);
    }
  }

  const system = value.systemInstruction;
  if (system !== undefined) {
    metrics.hasSystemInstruction = true;
    if (!isObject(system)) {
      error(
        'invalid_system_instruction',
        '/systemInstruction',
        `\`systemInstruction\` must be an object {parts}, got ${describe(system)}`,
      );
    } else {
      checkParts(system.parts, '/systemInstruction', model, error, metrics, true);
    }
  }

  const generationConfig = value.generationConfig;
  if (generationConfig !== undefined) {
    if (!isObject(generationConfig)) {
      error(
        'invalid_generation_config',
        '/generationConfig',
        `\`generationConfig\` must be an object, got ${describe(generationConfig)}`,
      );
    } else {
      const resolution = generationConfig.mediaResolution;
      // An enum: its name (MEDIA_RESOLUTION_LOW...) or, in proto3 JSON, its number.
      if (resolution !== undefined && typeof resolution !== 'string' && !Number.isInteger(resolution)) {
        error(
          'invalid_generation_config',
          '/generationConfig/mediaResolution',
          `\`generationConfig.mediaResolution\` must be a name such as "MEDIA_RESOLUTION_LOW", got ${describe(resolution)}`,
        );
      }
    }
  }

  const tools = value.tools;
  if (tools !== undefined) {
    if (!Array.isArray(tools)) {
      error('invalid_tools', '/tools', `\`tools\` must be a list, got ${describe(tools)}`);
    } else {
      for (let i = 0; i < tools.length; i++) {
        if (!isObject(tools[i])) {
          error(
            'invalid_tools',
            `/tools/${i}`,
            `\`tools[${i}]\` must be an object, got ${describe(tools[i])}`,
          );
        }
      }
    }
  }
  return valid;
}

function checkParts(
  parts: unknown,
  path: string,
  model: ModelSpec,
  error: (code: string, path: string, message: string) => void,
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
  error: (code: string, path: string, message: string) => void,
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
function addJsonBytes(
  data: unknown,
  path: string,
  error: (code: string, path: string, message: string) => void,
  metrics: ExampleMetrics,
): void {
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

/** Every text-like string of an example, for precise counting (rare: only when the bound cannot decide). */
export function collectTexts(example: Record<string, unknown>): string[] {
  const texts: string[] = [];
  const visit = (parts: unknown) => {
    if (!Array.isArray(parts)) return;
    for (const part of parts) {
      if (!isObject(part)) continue;
      if (typeof part.text === 'string') texts.push(part.text);
      for (const kind of ['functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult']) {
        if (part[kind] !== undefined) texts.push(JSON.stringify(part[kind]));
      }
    }
  };
  if (isObject(example.systemInstruction)) visit(example.systemInstruction.parts);
  if (Array.isArray(example.contents))
    for (const turn of example.contents) if (isObject(turn)) visit(turn.parts);
  return texts;
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
