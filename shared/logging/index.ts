/**
 * Structured JSON logs that Cloud Logging understands: one line per entry on stdout (stderr for
 * ERROR and above), with `severity` and `message` at the top level. Fields whose names look like
 * secrets are redacted here, once, so no caller can log a webhook secret or a token by mistake.
 */
export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

const rank: Record<Severity, number> = { DEBUG: 0, INFO: 1, NOTICE: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  log(severity: Severity, message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  /**
   * The line `log` would write (redacted, with this logger's fields), without writing it: for a
   * line that leaves through another channel, e.g. an error the platform itself logs.
   */
  format?(severity: Severity, message: string, fields?: LogFields): string;
}

export interface LoggerOptions {
  level?: Severity;
  /** Where lines go; defaults to stdout/stderr. Tests pass a collector. */
  write?: (line: string, severity: Severity) => void;
}

/**
 * Keys whose values are secrets. `token` alone, `idToken` or `access_token` are; counts of model
 * tokens (`billableTokens`, `tokenCount`) are not, so the dataset statistics stay readable.
 */
const secretKey =
  /secret|passw(or)?d|authorization|signature|api[-_]?key|credential|cookie|private[-_]?key|token(?!s|[-_]?count)/i;

/**
 * Secrets embedded in free text: a URL's `user:pass@`, a query parameter whose name looks secret
 * (`?token=`, `&sig=`...), an `Authorization` scheme's credentials, a JWT, a `whsec_` key. Each
 * pattern keeps enough around the secret to say where it was.
 */
const textPatterns: [RegExp, string][] = [
  // scheme://user:pass@host or scheme://token@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, '$1[redacted]@'],
  [
    /([?&;][^=&#\s"']*(?:token|secret|sig|signature|key|passw(?:or)?d|pwd|auth|credential|code|session)[^=&#\s"']*=)[^&#\s"']+/gi,
    '$1[redacted]',
  ],
  [/(authorization["']?\s*[:=]\s*["']?)[^"'\n,}]+/gi, '$1[redacted]'],
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]'],
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[redacted JWT]'],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, 'whsec_[redacted]'],
];

/** Masks secrets embedded in a string (URLs with credentials, bearer tokens, JWTs, whsec_ keys). */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of textPatterns) out = out.replace(pattern, replacement);
  return out;
}

/** How deep `redact` walks; anything deeper is dropped rather than written unchecked. */
const maxDepth = 6;

/**
 * Replaces the values of secret-looking keys, at any depth, with a marker, and masks secrets
 * embedded in string values (see redactText).
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > maxDepth) return '[too deep]';
  if (value instanceof Error) {
    // An error that says all in its message (a lock timeout, say) asks for no stack: one line.
    const stackless = (value as { stackless?: unknown }).stackless === true;
    return {
      name: value.name,
      message: redactText(value.message),
      ...(stackless ? {} : { stack: value.stack && redactText(value.stack) }),
    };
  }
  if (value instanceof URL) return redactText(value.href);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = secretKey.test(key) && item !== undefined ? '[redacted]' : redact(item, depth + 1);
  }
  return out;
}

function defaultWrite(line: string, severity: Severity): void {
  (rank[severity] >= rank.ERROR ? process.stderr : process.stdout).write(`${line}\n`);
}

export function createLogger(component: string, options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const threshold = rank[options.level ?? 'INFO'];
  const write = options.write ?? defaultWrite;
  const format = (severity: Severity, message: string, fields: LogFields = {}) =>
    JSON.stringify({
      severity,
      message: redactText(message),
      component,
      ...(redact({ ...base, ...fields }) as LogFields),
    });
  const log = (severity: Severity, message: string, fields: LogFields = {}) => {
    if (rank[severity] < threshold) return;
    write(format(severity, message, fields), severity);
  };
  return {
    log,
    format,
    debug: (message, fields) => log('DEBUG', message, fields),
    info: (message, fields) => log('INFO', message, fields),
    warn: (message, fields) => log('WARNING', message, fields),
    error: (message, fields) => log('ERROR', message, fields),
    child: (fields) => createLogger(component, options, { ...base, ...fields }),
  };
}

/** A logger that keeps its entries in memory, for tests that assert on what was logged. */
export function createMemoryLogger(component = 'test'): Logger & { entries: LogFields[] } {
  const entries: LogFields[] = [];
  const logger = createLogger(component, { level: 'DEBUG', write: (line) => entries.push(JSON.parse(line)) });
  return Object.assign(logger, { entries });
}
