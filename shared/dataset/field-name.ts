/**
 * A JSON pointer into an example as a person names the field: `/contents/0/parts/1/text` →
 * `contents[0].parts[1].text`. Messages name the field this way; reports keep the pointer.
 */
export function fieldName(pointer: string): string {
  if (pointer === '' || pointer === '/') return '';
  let name = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^\d+$/.test(part)) name += `[${part}]`;
    else name += name ? `.${part}` : part;
  }
  return name;
}
