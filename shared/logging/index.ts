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
}

export interface LoggerOptions {
  level?: Severity;
  /** Where lines go; defaults to stdout/stderr. Tests pass a collector. */
  write?: (line: string, severity: Severity) => void;
}

const secretKey = /secret|token|password|authorization|signature|api[-_]?key|credential/i;

/** Replaces the values of secret-looking keys, at any depth, with a marker. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
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
  const log = (severity: Severity, message: string, fields: LogFields = {}) => {
    if (rank[severity] < threshold) return;
    const entry = { severity, message, component, ...(redact({ ...base, ...fields }) as LogFields) };
    write(JSON.stringify(entry), severity);
  };
  return {
    log,
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
