/**
 * Proto3 JSON field names. Vertex AI reads tuning data with the proto3 JSON rules, under which
 * "parsers accept both the lowerCamelCase name … and the original proto field name"
 * (protobuf.dev/programming-guides/proto3#json), and Google's own tuning examples write both
 * (`system_instruction` on the function-calling and preference pages, `systemInstruction` in the
 * generic format). The rules in example-rules.ts read camelCase names; normalizeFieldNames renames
 * the snake_case spelling of a known field to camelCase in place first, and reports a field given
 * in both spellings in one object, which a proto3 parser refuses.
 *
 * Only the message levels of the tuning format are walked. Free-form JSON inside them (function
 * call `args`, a function `response`, a declaration's `parameters` schema) holds the user's own
 * keys and is never touched. The caller runs this only for a line with an underscore in it, so
 * camelCase data (the common case) pays nothing.
 */
import { PART_KINDS } from '../models/kinds.ts';
import type { Reporter } from './example-rules.ts';
import { escapePointer, isObject } from './json-values.ts';

/** Field names of one message level; null: every snake_case key of that level is a field name. */
type Level = ReadonlySet<string> | null;

const set = (...names: string[]): ReadonlySet<string> => new Set(names);

const TOP = set('contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig');
const CONTENT = set('role', 'parts');
/** A part's data fields (the catalog's part kinds) and its metadata fields. */
const PART = set(
  ...PART_KINDS,
  'thought',
  'thoughtSignature',
  'videoMetadata',
  'mediaResolution',
  'partMetadata',
);
/** The messages a part's fields hold, and their own fields. */
const PART_DATA: Record<string, Level> = {
  inlineData: set('mimeType', 'data', 'displayName'),
  fileData: set('mimeType', 'fileUri', 'displayName'),
  functionCall: set('name', 'args', 'id', 'partialArgs', 'willContinue'),
  functionResponse: set('name', 'response', 'id', 'parts', 'willContinue', 'scheduling'),
  executableCode: set('language', 'code'),
  codeExecutionResult: set('outcome', 'output'),
  videoMetadata: set('startOffset', 'endOffset', 'fps'),
  mediaResolution: set('level'),
};

export function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * Renames the snake_case keys of `object` that spell a field of `level` (any, for null) to
 * camelCase. Returns false when a field is given in both spellings (reported, the object left as
 * it is for that field).
 */
function renameLevel(object: Record<string, unknown>, level: Level, path: string, report: Reporter): boolean {
  let ok = true;
  for (const key of Object.keys(object)) {
    if (!key.includes('_')) continue;
    const camel = snakeToCamel(key);
    if (camel === key || (level !== null && !level.has(camel))) continue;
    if (Object.hasOwn(object, camel)) {
      ok = false;
      report(
        'error',
        'duplicate_field',
        `${path}/${escapePointer(key)}`,
        `\`${key}\` and \`${camel}\` are the same field (proto3 JSON accepts either spelling); give it once`,
      );
      continue;
    }
    object[camel] = object[key];
    delete object[key];
  }
  return ok;
}

function normalizeContent(content: unknown, path: string, report: Reporter): boolean {
  if (!isObject(content)) return true;
  let ok = renameLevel(content, CONTENT, path, report);
  const parts = content.parts;
  if (!Array.isArray(parts)) return ok;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    if (!isObject(part)) continue;
    const partPath = `${path}/parts/${p}`;
    ok = renameLevel(part, PART, partPath, report) && ok;
    for (const key in part) {
      const level = PART_DATA[key];
      const data = part[key];
      if (level !== undefined && isObject(data)) {
        ok = renameLevel(data, level, `${partPath}/${key}`, report) && ok;
      }
    }
  }
  return ok;
}

/**
 * Brings one parsed example to camelCase field names in place (see the file comment). Returns
 * false when it reported an error.
 */
export function normalizeFieldNames(example: Record<string, unknown>, report: Reporter): boolean {
  let ok = renameLevel(example, TOP, '', report);
  const contents = example.contents;
  if (Array.isArray(contents)) {
    for (let t = 0; t < contents.length; t++) {
      ok = normalizeContent(contents[t], `/contents/${t}`, report) && ok;
    }
  }
  ok = normalizeContent(example.systemInstruction, '/systemInstruction', report) && ok;
  const tools = example.tools;
  if (Array.isArray(tools)) {
    for (let i = 0; i < tools.length; i++) {
      const tool = tools[i];
      if (!isObject(tool)) continue;
      ok = renameLevel(tool, null, `/tools/${i}`, report) && ok;
      const declarations = tool.functionDeclarations;
      if (!Array.isArray(declarations)) continue;
      for (let d = 0; d < declarations.length; d++) {
        const declaration = declarations[d];
        // The declaration's own fields only: the names inside `parameters` are the user's.
        if (isObject(declaration)) {
          ok = renameLevel(declaration, null, `/tools/${i}/functionDeclarations/${d}`, report) && ok;
        }
      }
    }
  }
  for (const key of ['generationConfig', 'toolConfig'] as const) {
    const config = example[key];
    if (!isObject(config)) continue;
    ok = renameLevel(config, null, `/${key}`, report) && ok;
    const calling = config.functionCallingConfig;
    if (key === 'toolConfig' && isObject(calling)) {
      ok = renameLevel(calling, null, '/toolConfig/functionCallingConfig', report) && ok;
    }
  }
  return ok;
}
