/**
 * AIP-160 list filters for `tuningJobs.list`. The v1 reference names no filterable field for
 * tuningJobs ("the standard list filter"), so the emulator accepts no more than what Vertex
 * documents for its other job lists (customJobs, hyperparameterTuningJobs): `labels.k="v"`,
 * `labels.k:*`, `state` with = and !=, `create_time` with =, !=, <, <=, >, >= (RFC 3339), joined
 * with AND (or juxtaposition), OR, NOT and parentheses. Any other field or operator is a 400
 * INVALID_ARGUMENT, so a client tested here relies on nothing Vertex may reject. tunedrop's own
 * client sends label equality only (shared/providers/vertex/filter.ts says why).
 *
 * Because what Vertex honours is undocumented, the mode (`--list-filter`) narrows it further, so a
 * client's fallbacks can be rehearsed: `full` is the grammar above; `state-only` honours `state`
 * restrictions alone (with AND, OR, NOT, parentheses); `none` honours no filter at all. Whatever a
 * mode does not honour answers 400 INVALID_ARGUMENT, never a silently unfiltered list.
 */
import { badRequest } from './errors.ts';

export interface FilterSubject {
  name: string;
  state: string;
  labels: Record<string, string>;
  createTime: string;
  updateTime: string;
  baseModel?: string;
  tunedModelDisplayName?: string;
}

export type Predicate = (job: FilterSubject) => boolean;

export const LIST_FILTER_MODES = ['full', 'state-only', 'none'] as const;
export type ListFilterMode = (typeof LIST_FILTER_MODES)[number];

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=' | ':';
const ops: Op[] = ['!=', '<=', '>=', '=', '<', '>', ':'];

// The REST reference spells filter fields in camelCase (createTime), the RPC one in snake_case.
const stringFields: Record<string, (job: FilterSubject) => string | undefined> = {
  state: (job) => job.state,
};
const timeFields: Record<string, (job: FilterSubject) => string> = {
  create_time: (job) => job.createTime,
  createTime: (job) => job.createTime,
};

class Parser {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly mode: ListFilterMode,
  ) {}

  fail(reason: string): never {
    throw badRequest(`Invalid filter "${this.text}": ${reason} at position ${this.pos}.`);
  }

  private skipSpace() {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] as string)) this.pos++;
  }

  private peekKeyword(word: string): boolean {
    this.skipSpace();
    const next = this.text.slice(this.pos, this.pos + word.length);
    const after = this.text[this.pos + word.length];
    return next === word && (after === undefined || /[\s(]/.test(after));
  }

  private atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  parse(): Predicate {
    if (this.atEnd()) return () => true;
    const predicate = this.parseOr();
    if (!this.atEnd()) this.fail('unexpected input');
    return predicate;
  }

  private parseOr(): Predicate {
    const terms = [this.parseAnd()];
    while (this.peekKeyword('OR')) {
      this.pos += 2;
      terms.push(this.parseAnd());
    }
    return terms.length === 1 ? (terms[0] as Predicate) : (job) => terms.some((term) => term(job));
  }

  private parseAnd(): Predicate {
    const terms = [this.parseUnary()];
    for (;;) {
      if (this.peekKeyword('AND')) {
        this.pos += 3;
        terms.push(this.parseUnary());
        continue;
      }
      // Juxtaposition is an implicit AND, unless the next thing closes a group or starts an OR.
      if (this.atEnd() || this.text[this.pos] === ')' || this.peekKeyword('OR')) break;
      terms.push(this.parseUnary());
    }
    return terms.length === 1 ? (terms[0] as Predicate) : (job) => terms.every((term) => term(job));
  }

  private parseUnary(): Predicate {
    if (this.peekKeyword('NOT')) {
      this.pos += 3;
      const inner = this.parseUnary();
      return (job) => !inner(job);
    }
    this.skipSpace();
    if (this.text[this.pos] === '(') {
      this.pos++;
      const inner = this.parseOr();
      this.skipSpace();
      if (this.text[this.pos] !== ')') this.fail('missing ")"');
      this.pos++;
      return inner;
    }
    return this.parseRestriction();
  }

  private parseRestriction(): Predicate {
    this.skipSpace();
    const start = this.pos;
    while (this.pos < this.text.length && /[A-Za-z0-9_.-]/.test(this.text[this.pos] as string)) this.pos++;
    const field = this.text.slice(start, this.pos);
    if (!field) this.fail('expected a field name');
    this.skipSpace();
    const op = ops.find((candidate) => this.text.startsWith(candidate, this.pos));
    if (!op) this.fail(`expected a comparison after "${field}"`);
    this.pos += op.length;
    const value = this.parseValue();
    return this.restriction(field, op, value);
  }

  private parseValue(): string {
    this.skipSpace();
    if (this.text[this.pos] === '"') {
      this.pos++;
      let value = '';
      while (this.pos < this.text.length && this.text[this.pos] !== '"') {
        if (this.text[this.pos] === '\\') this.pos++;
        value += this.text[this.pos] ?? '';
        this.pos++;
      }
      if (this.text[this.pos] !== '"') this.fail('unterminated string');
      this.pos++;
      return value;
    }
    const start = this.pos;
    while (this.pos < this.text.length && !/[\s()]/.test(this.text[this.pos] as string)) this.pos++;
    if (start === this.pos) this.fail('expected a value');
    return this.text.slice(start, this.pos);
  }

  private restriction(field: string, op: Op, value: string): Predicate {
    if (this.mode === 'state-only' && field !== 'state') {
      this.fail(`unsupported field "${field}" (only state can be filtered on)`);
    }
    if (field.startsWith('labels.')) {
      const key = field.slice('labels.'.length);
      if (!key) this.fail('expected a label key');
      if (op === ':' && value === '*') return (job) => Object.hasOwn(job.labels, key);
      if (op === '=') return (job) => job.labels[key] === value;
      this.fail('labels support labels.key=value and labels.key:* only');
    }
    const stringField = stringFields[field];
    if (stringField) {
      if (op === '=') return (job) => stringField(job) === value;
      if (op === '!=') return (job) => stringField(job) !== value;
      this.fail(`${field} supports = and != only`);
    }
    const timeField = timeFields[field];
    if (timeField) {
      if (op === ':') this.fail(`${field} supports =, !=, <, <=, > and >= only`);
      const bound = Date.parse(value);
      if (Number.isNaN(bound)) this.fail(`"${value}" is not an RFC 3339 timestamp`);
      const compare = (job: FilterSubject) => Date.parse(timeField(job)) - bound;
      const tests: Record<Exclude<Op, ':'>, (diff: number) => boolean> = {
        '=': (diff) => diff === 0,
        '!=': (diff) => diff !== 0,
        '<': (diff) => diff < 0,
        '<=': (diff) => diff <= 0,
        '>': (diff) => diff > 0,
        '>=': (diff) => diff >= 0,
      };
      const test = tests[op];
      return (job) => test(compare(job));
    }
    return this.fail(`unsupported field "${field}"`);
  }
}

/**
 * Compiles a filter string into a predicate; throws a 400 ApiError when it does not parse or asks
 * for more than the mode honours.
 */
export function compileFilter(filter: string | undefined | null, mode: ListFilterMode = 'full'): Predicate {
  const text = filter ?? '';
  if (mode === 'none' && text.trim()) {
    throw badRequest(`Invalid filter "${text}": filtering is not supported for this list.`, [
      { field: 'filter', description: 'This list method accepts no filter.' },
    ]);
  }
  return new Parser(text, mode).parse();
}
