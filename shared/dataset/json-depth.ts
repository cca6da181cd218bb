/**
 * Nesting depth of free-form JSON values (function-call arguments, function responses, code
 * parts), measured without recursion. A hostile line of 100,000 nested arrays parses fine (V8's
 * JSON.parse is iterative) but overflows the stack of any recursive walk, JSON.stringify
 * included: such a value must be refused before anything recursive touches it.
 */

/**
 * Protocol Buffers' JSON parsers stop at a recursion depth of 100 by default, and a free-form value
 * (a google.protobuf.Struct) sits several messages deep in an example, so nothing deeper than this
 * can reach a provider: refusing it never blocks what Vertex AI would accept.
 */
export const MAX_FREE_FORM_DEPTH = 100;

/** Whether `value` nests objects and arrays more than `max` levels deep. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  // Depth-first with an explicit stack of [value, depth]; stops at the first value past `max`.
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (depth > max) return true;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
