/**
 * The rules for one example of the Gemini supervised-tuning format: the example's top-level
 * fields, its turns and their roles, `systemInstruction`, `generationConfig` and `tools`. The
 * parts inside a turn are checked by part-rules.ts.
 */
import { fieldName } from './field-name.ts';
import { detectMistakenFormat, mistakenFormatMessage } from './formats.ts';
import { describe, escapePointer, isObject } from './json-values.ts';
import type { ModelSpec } from './models.ts';
import { checkParts } from './part-rules.ts';
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
