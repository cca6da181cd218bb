/**
 * Yandex AI Studio's text-to-text tuning format (TextToTextGeneration, jsonlines), checked line by
 * line before anything is uploaded, as Yandex's Validate would check it afterwards:
 * `{"request":[{"role":"system"|"user"|"assistant","text":"…"}],"response":"…"}`.
 *
 * Token limits (the catalog's maxPromptTokens, maxResponseTokens and maxTokensPerExample) are
 * checked on an ESTIMATE: Yandex publishes no tokenizer. An error needs the text to exceed the
 * limit at ERROR_CHARS_PER_TOKEN characters per token; a warning already at
 * WARNING_CHARS_PER_TOKEN (closer to Russian text). Messages say that it is an estimate.
 */
import type { ExampleMetrics, Reporter } from './example-rules.ts';
import { isObject } from './json-values.ts';
import type { ModelSpec } from './models.ts';

export const ERROR_CHARS_PER_TOKEN = 4;
export const WARNING_CHARS_PER_TOKEN = 2.5;

const roles = new Set(['system', 'user', 'assistant']);

export function estimateNote(): string {
  return `estimated at ${ERROR_CHARS_PER_TOKEN} characters per token; Yandex's tokenizer is not public`;
}

function checkLimit(
  name: string,
  path: string,
  characters: number,
  limit: number | null,
  report: Reporter,
): boolean {
  if (limit === null) return true;
  const estimate = Math.ceil(characters / ERROR_CHARS_PER_TOKEN);
  if (estimate > limit) {
    report(
      'error',
      'too_many_tokens',
      path,
      `${name} is about ${estimate} tokens (${characters} characters, ${estimateNote()}); the limit is ${limit}`,
    );
    return false;
  }
  const likely = Math.ceil(characters / WARNING_CHARS_PER_TOKEN);
  if (likely > limit) {
    report(
      'warning',
      'may_exceed_tokens',
      path,
      `${name} may exceed ${limit} tokens (${characters} characters; at ${WARNING_CHARS_PER_TOKEN} characters per token, typical of Russian text, it is ${likely})`,
    );
  }
  return true;
}

/**
 * Checks one parsed line against the Yandex format and the model's limits; fills `metrics` (turns
 * are the request messages plus the response). Returns true when the example has no error.
 */
export function checkYandexExample(
  value: unknown,
  line: number,
  model: ModelSpec,
  report: Reporter,
  metrics: ExampleMetrics,
): boolean {
  let valid = true;
  const error = (code: string, path: string, message: string) => {
    valid = false;
    report('error', code, path, message);
  };
  if (!isObject(value)) {
    error('not_object', '', 'Line is not a JSON object');
    return false;
  }
  if ('contents' in value) {
    error(
      'wrong_format',
      '',
      `Line ${line} is a Vertex AI Gemini example (\`contents\`); the job asks for ${model.id}, which takes Yandex's {"request": [{"role", "text"}], "response"} format`,
    );
    return false;
  }
  for (const key of Object.keys(value)) {
    if (key !== 'request' && key !== 'response')
      report('warning', 'unknown_field', `/${key}`, `Unknown field \`${key}\` is ignored by Yandex tuning`);
  }
  let requestChars = 0;
  const request = value.request;
  if (request === undefined)
    error('missing_request', '/request', 'Missing `request`: a list of {role, text} messages');
  else if (!Array.isArray(request) || request.length === 0)
    error('invalid_request', '/request', '`request` must be a non-empty list of {role, text} messages');
  else {
    request.forEach((message, index) => {
      const path = `/request/${index}`;
      if (!isObject(message)) {
        error('invalid_message', path, 'A message must be an object {role, text}');
        return;
      }
      metrics.turns++;
      if (typeof message.role !== 'string' || !roles.has(message.role))
        error('invalid_role', `${path}/role`, '`role` must be "system", "user" or "assistant"');
      if (message.role === 'system') metrics.hasSystemInstruction = true;
      if (typeof message.text !== 'string') error('missing_text', `${path}/text`, '`text` must be a string');
      else {
        requestChars += message.text.length;
        metrics.parts++;
        metrics.characters += message.text.length;
        metrics.contentBytes += Buffer.byteLength(message.text);
      }
    });
    const last = request[request.length - 1];
    if (isObject(last) && last.role === 'assistant')
      report(
        'warning',
        'request_ends_with_assistant',
        `/request/${request.length - 1}`,
        'The request ends with an assistant message; the reply to learn belongs in `response`',
      );
  }
  const response = value.response;
  if (response === undefined)
    error('missing_response', '/response', 'Missing `response`: the reply to learn, a string');
  else if (typeof response !== 'string')
    error('invalid_response', '/response', '`response` must be a string');
  else if (response.length === 0) error('empty_response', '/response', '`response` is empty');
  else {
    metrics.turns++;
    metrics.parts++;
    metrics.characters += response.length;
    metrics.contentBytes += Buffer.byteLength(response);
  }
  if (!valid) return false;
  const responseChars = typeof response === 'string' ? response.length : 0;
  const { limits } = model;
  const ok = [
    checkLimit('The request', '/request', requestChars, limits.maxPromptTokens, report),
    checkLimit('The response', '/response', responseChars, limits.maxResponseTokens, report),
    checkLimit(
      'Request and response together',
      '',
      requestChars + responseChars,
      limits.maxTokensPerExample,
      report,
    ),
  ].every(Boolean);
  return ok;
}
