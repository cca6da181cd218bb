/**
 * Vertex AI reads `inlineData.data` as a proto3 `bytes` field, whose JSON form accepts the
 * standard and the URL-safe base64 alphabets, with or without "=" padding
 * (https://protobuf.dev/programming-guides/json/, "bytes"). The check scans the parsed string in
 * place: a payload of megabytes is never decoded into a second copy.
 */
const ALPHABET = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') {
  ALPHABET[char.charCodeAt(0)] = 1;
}
const PAD = 0x3d; // "="

/** Why `text` is not base64, or undefined when it is. */
export function base64Problem(text: string): string | undefined {
  let end = text.length;
  while (end > 0 && end > text.length - 2 && text.charCodeAt(end - 1) === PAD) end--;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || ALPHABET[code] === 0) {
      const shown = code === PAD ? '"=" before the end' : JSON.stringify(text[i]);
      return `${shown} at offset ${i} is not base64`;
    }
  }
  const padded = end < text.length;
  if (padded ? text.length % 4 !== 0 : end % 4 === 1) {
    return `${text.length} characters is not a possible length of base64 data`;
  }
  return undefined;
}
