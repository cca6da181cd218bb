/**
 * The v1 `TuningJob` message as proto3 JSON, parsed the way Google's frontends parse a request
 * body: field names in lowerCamelCase or as written in the proto (snake_case), enums by name or by
 * number, int64 as a JSON number or a decimal string, `null` meaning "not set". A name v1 does not
 * have (a v1beta1-only field such as `tuningMode` or `outputUri`) is refused with Google's wording,
 * `Invalid JSON payload received. Unknown name "tuningMode" at 'tuning_job.supervised_tuning_spec':
 * Cannot find field.`, and a value of the wrong type with `Invalid value at '<path>' (<type>), <value>`.
 *
 * The result is canonical proto3 JSON (camelCase, enum names, int64 strings), which is what the
 * emulator stores and echoes. Fields are those of googleapis google/cloud/aiplatform/v1/
 * tuning_job.proto as shipped with @google-cloud/aiplatform 7.4 (the 2026 v1 surface).
 */
import type { FieldViolation } from './errors.ts';

type Field =
  | { kind: 'string' | 'bool' | 'int64' | 'double' }
  | { kind: 'enum'; type: string; values: Record<string, number> }
  | { kind: 'message'; message: Message }
  | { kind: 'map' }
  /** A field the emulator keeps as given: output-only values and deep configs it does not read. */
  | { kind: 'opaque' };

interface Message {
  fields: Record<string, Field>;
  /** Oneof name → its fields (camelCase); protobuf's JSON parser refuses two members set. */
  oneofs?: Record<string, string[]>;
}

export const adapterSizeValues = {
  ADAPTER_SIZE_UNSPECIFIED: 0,
  ADAPTER_SIZE_ONE: 1,
  ADAPTER_SIZE_TWO: 6,
  ADAPTER_SIZE_FOUR: 2,
  ADAPTER_SIZE_EIGHT: 3,
  ADAPTER_SIZE_SIXTEEN: 4,
  ADAPTER_SIZE_THIRTY_TWO: 5,
} as const;
export type AdapterSizeName = keyof typeof adapterSizeValues;

export const jobStateValues: Record<string, number> = {
  JOB_STATE_UNSPECIFIED: 0,
  JOB_STATE_QUEUED: 1,
  JOB_STATE_PENDING: 2,
  JOB_STATE_RUNNING: 3,
  JOB_STATE_SUCCEEDED: 4,
  JOB_STATE_FAILED: 5,
  JOB_STATE_CANCELLING: 6,
  JOB_STATE_CANCELLED: 7,
  JOB_STATE_PAUSED: 8,
  JOB_STATE_EXPIRED: 9,
  JOB_STATE_UPDATING: 10,
  JOB_STATE_PARTIALLY_SUCCEEDED: 11,
};

const string: Field = { kind: 'string' };
const opaque: Field = { kind: 'opaque' };

const hyperParameters: Message = {
  fields: {
    epochCount: { kind: 'int64' },
    learningRateMultiplier: { kind: 'double' },
    adapterSize: {
      kind: 'enum',
      type: 'type.googleapis.com/google.cloud.aiplatform.v1.SupervisedHyperParameters.AdapterSize',
      values: adapterSizeValues,
    },
  },
};

const supervisedTuningSpec: Message = {
  fields: {
    trainingDatasetUri: string,
    validationDatasetUri: string,
    hyperParameters: { kind: 'message', message: hyperParameters },
    exportLastCheckpointOnly: { kind: 'bool' },
    evaluationConfig: opaque,
  },
};

const preTunedModel: Message = {
  fields: { tunedModelName: string, checkpointId: string, baseModel: string },
};

export const tuningJobMessage: Message = {
  fields: {
    baseModel: string,
    preTunedModel: { kind: 'message', message: preTunedModel },
    supervisedTuningSpec: { kind: 'message', message: supervisedTuningSpec },
    // Not in the published v1 protos, yet Google's v1 preference-tuning examples send it and the
    // service accepts it (reference §4, a CONFLICT): accepted, so nothing Vertex takes is refused.
    preferenceOptimizationSpec: opaque,
    name: string,
    tunedModelDisplayName: string,
    description: string,
    state: opaque,
    createTime: opaque,
    startTime: opaque,
    endTime: opaque,
    updateTime: opaque,
    error: opaque,
    labels: { kind: 'map' },
    experiment: string,
    tunedModel: opaque,
    tuningDataStats: opaque,
    encryptionSpec: { kind: 'message', message: { fields: { kmsKeyName: string } } },
    serviceAccount: string,
    evaluateDatasetRuns: opaque,
  },
  oneofs: {
    source_model: ['baseModel', 'preTunedModel'],
    tuning_spec: ['supervisedTuningSpec', 'preferenceOptimizationSpec'],
  },
};

const snake = (camel: string) => camel.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const show = (value: unknown) => (typeof value === 'string' ? `"${value}"` : JSON.stringify(value));

export interface ParsedJson {
  value: Record<string, unknown>;
  violations: FieldViolation[];
}

/** Parses a request body as the given message, at `root` (e.g. 'tuning_job'). */
export function parseMessage(
  body: unknown,
  message: Message = tuningJobMessage,
  root = 'tuning_job',
): ParsedJson {
  const violations: FieldViolation[] = [];
  const value = parseObject(body, message, root, violations);
  return { value: value ?? {}, violations };
}

function invalidValue(violations: FieldViolation[], path: string, type: string, value: unknown) {
  violations.push({ field: path, description: `Invalid value at '${path}' (${type}), ${show(value)}` });
}

function parseObject(
  body: unknown,
  message: Message,
  path: string,
  violations: FieldViolation[],
): Record<string, unknown> | undefined {
  if (!isObject(body)) {
    violations.push({
      field: path,
      description: `Invalid JSON payload received. Expected an object at '${path}', got ${show(body)}.`,
    });
    return undefined;
  }
  const out: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  for (const [key, raw] of Object.entries(body)) {
    const camel = key.includes('_') ? key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) : key;
    const field = message.fields[camel];
    // A camelCase key is only valid as itself; a snake_case one only as the proto's own name.
    if (!field || (key !== camel && key !== snake(camel))) {
      violations.push({
        field: path,
        description: `Invalid JSON payload received. Unknown name "${key}" at '${path}': Cannot find field.`,
      });
      continue;
    }
    const previous = spelledAs.get(camel);
    if (previous !== undefined) {
      // protobuf's JSON parser refuses a field given twice (both spellings); wording the emulator's.
      violations.push({
        field: `${path}.${snake(camel)}`,
        description: `Invalid JSON payload received. Field "${snake(camel)}" is given twice, as "${previous}" and "${key}".`,
      });
      continue;
    }
    spelledAs.set(camel, key);
    if (raw === null) continue; // proto3 JSON: null is the default value, i.e. not set
    const parsed = parseField(raw, field, `${path}.${snake(camel)}`, violations);
    if (parsed !== undefined) out[camel] = parsed;
  }
  for (const [oneof, members] of Object.entries(message.oneofs ?? {})) {
    const set = members.filter((member) => out[member] !== undefined);
    if (set.length > 1) {
      // protobuf's JSON parser wording ("Oneof field 'x' is already set. Cannot set 'y'").
      violations.push({
        field: `${path}.${snake(set[1] as string)}`,
        description: `Invalid JSON payload received. Oneof field '${oneof}' is already set. Cannot set '${set[1]}'`,
      });
    }
  }
  return out;
}

function parseField(raw: unknown, field: Field, path: string, violations: FieldViolation[]): unknown {
  switch (field.kind) {
    case 'string':
      if (typeof raw === 'string') return raw;
      return invalidValue(violations, path, 'TYPE_STRING', raw);
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      return invalidValue(violations, path, 'TYPE_BOOL', raw);
    case 'int64': {
      const text = typeof raw === 'number' && Number.isInteger(raw) ? String(raw) : raw;
      if (typeof text === 'string' && /^-?\d+$/.test(text)) return BigInt(text).toString();
      return invalidValue(violations, path, 'TYPE_INT64', raw);
    }
    case 'double': {
      if (typeof raw === 'number') return raw;
      if (typeof raw === 'string' && raw.trim() !== '' && !Number.isNaN(Number(raw))) return Number(raw);
      return invalidValue(violations, path, 'TYPE_DOUBLE', raw);
    }
    case 'enum': {
      // Names and numbers alike, as proto3 JSON parsers must; the canonical form is the name.
      if (typeof raw === 'string' && Object.hasOwn(field.values, raw)) return raw;
      if (typeof raw === 'number') {
        const name = Object.entries(field.values).find(([, number]) => number === raw)?.[0];
        if (name) return name;
      }
      return invalidValue(violations, path, field.type, raw);
    }
    case 'map': {
      if (!isObject(raw)) return invalidValue(violations, path, 'TYPE_MAP', raw);
      const out: Record<string, string> = {};
      for (const [key, value] of Object.entries(raw)) {
        if (typeof value === 'string') out[key] = value;
        else invalidValue(violations, `${path}[${key}]`, 'TYPE_STRING', value);
      }
      return out;
    }
    case 'message':
      return parseObject(raw, field.message, path, violations);
    case 'opaque':
      return raw;
  }
}

/**
 * For `$alt=json;enum-encoding=int` (what Google's client libraries ask for over REST): the
 * resource with its enums as numbers, as Google's frontends answer such a request.
 */
export function withNumericEnums(job: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...job };
  if (typeof out.state === 'string') out.state = jobStateValues[out.state] ?? 0;
  const spec = out.supervisedTuningSpec as { hyperParameters?: Record<string, unknown> } | undefined;
  const size = spec?.hyperParameters?.adapterSize;
  if (spec?.hyperParameters && typeof size === 'string') {
    out.supervisedTuningSpec = {
      ...spec,
      hyperParameters: {
        ...spec.hyperParameters,
        adapterSize: adapterSizeValues[size as AdapterSizeName] ?? 0,
      },
    };
  }
  return out;
}
