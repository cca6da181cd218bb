/**
 * Just enough HCL reading for the plan-level tests of terraform/: top-level blocks, their nested
 * blocks and their one-line attributes, with comments, strings and heredocs skipped correctly.
 * It reads the configuration as written (no provider is needed, so it runs anywhere); tf-check and
 * `terraform validate` check that it is valid, this checks what it grants.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Block {
  /** `resource`, `data`, `locals`, `variable`, `check`, or a nested block's name. */
  kind: string;
  /** The quoted labels: [type, name] of a resource. */
  labels: string[];
  file: string;
  /** Attribute name → its expression text (trimmed, joined onto one line). */
  attributes: Map<string, string>;
  blocks: Block[];
  /** The body's source text with comments removed. */
  text: string;
}

/** Removes comments (`#`, `//`, `/* *\/`) outside strings and heredocs. */
export function stripComments(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const heredoc = /^<<-?([A-Za-z_][A-Za-z0-9_]*)\n/.exec(source.slice(i));
    if (heredoc) {
      const end = new RegExp(`\\n\\s*${heredoc[1]}\\s*(\\n|$)`).exec(source.slice(i + heredoc[0].length));
      const stop = end ? i + heredoc[0].length + end.index + end[0].length : source.length;
      out += source.slice(i, stop);
      i = stop;
    } else if (c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== '"') j += source[j] === '\\' ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
    } else if (c === '#' || (c === '/' && source[i + 1] === '/')) {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index just past the brace that closes the one at `open` (strings skipped). */
function closing(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  throw new Error('unbalanced braces');
}

/** Bracket depth change of a line, strings skipped. */
function depthChange(line: string): number {
  let change = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') {
      i++;
      while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
    } else if ('{[('.includes(c)) change++;
    else if ('}])'.includes(c)) change--;
  }
  return change;
}

const blockHeader = /^([a-z_][a-z0-9_]*)((?:\s+"[^"]*")*)\s*\{\s*$/;
const attributeLine = /^([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(.*)$/;

export function parseBody(body: string, file: string): Pick<Block, 'attributes' | 'blocks'> {
  const attributes = new Map<string, string>();
  const blocks: Block[] = [];
  let pos = 0;
  const nextLine = (from: number) => {
    const newline = body.indexOf('\n', from);
    return newline < 0 ? body.length : newline + 1;
  };
  while (pos < body.length) {
    const lineEnd = nextLine(pos);
    const line = body.slice(pos, lineEnd);
    const trimmed = line.trim();
    const header = blockHeader.exec(trimmed);
    if (header) {
      const open = pos + line.lastIndexOf('{');
      const end = closing(body, open);
      const inner = body.slice(open + 1, end - 1);
      const labels = [...(header[2] ?? '').matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
      blocks.push({ kind: header[1]!, labels, file, text: inner, ...parseBody(inner, file) });
      pos = nextLine(end);
      continue;
    }
    const attribute = attributeLine.exec(trimmed);
    if (attribute) {
      let value = attribute[2]!;
      let depth = depthChange(value);
      let end = lineEnd;
      while (depth > 0 && end < body.length) {
        const more = body.slice(end, nextLine(end));
        value += ` ${more.trim()}`;
        depth += depthChange(more);
        end = nextLine(end);
      }
      attributes.set(attribute[1]!, value.trim());
      pos = end;
      continue;
    }
    pos = lineEnd;
  }
  return { attributes, blocks };
}

/** Every top-level block of every .tf file in `dir`. */
export function readConfiguration(dir: string): Block[] {
  const blocks: Block[] = [];
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.tf'))
    .sort()) {
    const text = stripComments(readFileSync(join(dir, file), 'utf8'));
    blocks.push(...parseBody(text, file).blocks);
  }
  return blocks;
}

export class Configuration {
  readonly blocks: Block[];
  constructor(dir: string) {
    this.blocks = readConfiguration(dir);
  }

  resources(type: string): Block[] {
    return this.blocks.filter((block) => block.kind === 'resource' && block.labels[0] === type);
  }

  resource(type: string, name: string): Block {
    const found = this.blocks.find(
      (block) => block.kind === 'resource' && block.labels[0] === type && block.labels[1] === name,
    );
    if (!found) throw new Error(`no resource ${type}.${name} in terraform/`);
    return found;
  }

  data(type: string, name: string): Block {
    const found = this.blocks.find(
      (block) => block.kind === 'data' && block.labels[0] === type && block.labels[1] === name,
    );
    if (!found) throw new Error(`no data ${type}.${name} in terraform/`);
    return found;
  }

  /** A local value's expression, from whichever locals block declares it. */
  local(name: string): string {
    for (const block of this.blocks.filter((b) => b.kind === 'locals')) {
      const value = block.attributes.get(name);
      if (value !== undefined) return value;
    }
    throw new Error(`no local.${name} in terraform/`);
  }

  variable(name: string): Block {
    const found = this.blocks.find((block) => block.kind === 'variable' && block.labels[0] === name);
    if (!found) throw new Error(`no variable ${name} in terraform/`);
    return found;
  }
}

export function nested(block: Block, kind: string): Block[] {
  return block.blocks.filter((inner) => inner.kind === kind);
}

/** A string literal's value (`"roles/x"` → roles/x); other expressions as they are. */
export function literal(expression: string | undefined): string | undefined {
  if (expression === undefined) return undefined;
  const match = /^"((?:[^"\\]|\\.)*)"$/.exec(expression);
  return match ? match[1]!.replace(/\\"/g, '"') : expression;
}
