/**
 * Recognises the dataset formats users bring by mistake, so the error names the format instead
 * of saying "missing contents" on every line.
 */
import { isObject } from './json-values.ts';

export type MistakenFormat =
  | 'openai_chat'
  | 'gemini_1_messages'
  | 'palm_text'
  | 'openai_completion'
  | 'yandex_text_to_text';

const FORMAT_NAMES: Record<MistakenFormat, string> = {
  openai_chat: 'the OpenAI chat format (`messages` with `assistant`)',
  gemini_1_messages: 'the Gemini 1.0 `messages` format',
  palm_text: 'the PaLM text format (`input_text`/`output_text`)',
  openai_completion: 'the OpenAI completion format (`prompt`/`completion`)',
  yandex_text_to_text: "Yandex AI Studio's format (`request`/`response`)",
};

/** The mistaken format an example without `contents` is in, if it is one we know. */
export function detectMistakenFormat(example: Record<string, unknown>): MistakenFormat | undefined {
  const messages = example.messages;
  if (Array.isArray(messages)) {
    const first = messages.find(isObject);
    if (!first) return 'openai_chat';
    const roles = messages.filter(isObject).map((message) => message.role ?? message.author);
    // OpenAI chat marks replies `assistant` and may carry a `system` message; Gemini 1.0's
    // `messages` used `author` (PaLM chat) or `role` user/model with a string `content`.
    if (roles.some((role) => role === 'assistant' || role === 'system' || role === 'tool'))
      return 'openai_chat';
    if ('author' in first || roles.some((role) => role === 'user' || role === 'model'))
      return 'gemini_1_messages';
    return 'openai_chat';
  }
  if (Array.isArray(example.request) && 'response' in example) return 'yandex_text_to_text';
  if ('input_text' in example || 'output_text' in example) return 'palm_text';
  if ('prompt' in example && 'completion' in example) return 'openai_completion';
  return undefined;
}

export function mistakenFormatMessage(format: MistakenFormat, line: number, modelId?: string): string {
  if (format === 'yandex_text_to_text') {
    return `Line ${line} is a Yandex AI Studio example (\`request\`/\`response\`); the job asks for ${modelId ?? 'a Vertex AI Gemini model'}, which takes Gemini \`contents\` (for a YandexGPT model set "provider": "yandex")`;
  }
  return `Line ${line} is in ${FORMAT_NAMES[format]}; tunedrop expects Gemini \`contents\` (see README)`;
}
