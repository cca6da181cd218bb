/**
 * How the Functions Framework's server is adjusted where its options cannot reach, installed by
 * functions/index.ts before the framework creates its one HTTP server:
 *
 * - The api target is served by the framework-free API core (functions/api) straight from
 *   node:http, not through the framework's Express app. Express parses JSON bodies and decodes
 *   paths before the function runs, and answers its own failures (a malformed JSON body, `%zz` in
 *   a path) with an HTML page holding a stack trace and file paths; the API promises a JSON error
 *   envelope for every request, so it reads its own body and decodes its own path. Everything else
 *   the framework does (start-up, signal handling, logging the start) stays as it is.
 * - `TUNEDROP_LISTEN_HOST` (the local stack sets 127.0.0.1) binds the server to that address; the
 *   framework itself always listens on every interface. Unset on Cloud Run, where the platform
 *   owns the network.
 *
 * Only the first server created after install is touched, and the hook is removed at once.
 */
import http from 'node:http';

export interface ServerHookOptions {
  /** The target this process serves (FUNCTION_TARGET or `--target`). */
  target: string | undefined;
  /** Targets whose requests skip Express: the handler to serve them with, built on first use. */
  plainHttp: Record<string, () => (request: http.IncomingMessage, response: http.ServerResponse) => void>;
  listenHost: string | undefined;
}

/** The target the Functions Framework will serve, read the way it reads it (flag, then env). */
export function frameworkTarget(argv: readonly string[], env: Record<string, string | undefined>) {
  for (const [index, arg] of argv.entries()) {
    if (arg.startsWith('--target=')) return arg.slice('--target='.length);
    if (arg === '--target') return argv[index + 1];
  }
  return env.FUNCTION_TARGET;
}

let installed = false;

export function installServerHook(options: ServerHookOptions): void {
  const plain = options.target === undefined ? undefined : options.plainHttp[options.target];
  if (installed || (!plain && !options.listenHost)) return;
  installed = true;
  const original = http.createServer;
  const patched = ((...args: unknown[]) => {
    http.createServer = original;
    const listenerIndex = args.findIndex((arg) => typeof arg === 'function');
    if (plain && listenerIndex >= 0) {
      let handler: ReturnType<typeof plain> | undefined;
      args[listenerIndex] = (request: http.IncomingMessage, response: http.ServerResponse) => {
        handler ??= plain();
        handler(request, response);
      };
    }
    const server = (original as (...a: unknown[]) => http.Server)(...args);
    if (options.listenHost) {
      const host = options.listenHost;
      const listen = server.listen.bind(server) as (...a: unknown[]) => http.Server;
      server.listen = ((...listenArgs: unknown[]) => {
        // listen(port, callback) as the framework calls it → listen(port, host, callback).
        if (typeof listenArgs[0] === 'number' || typeof listenArgs[0] === 'string') {
          const [port, ...rest] = listenArgs;
          if (typeof rest[0] !== 'string') return listen(Number(port), host, ...rest);
        }
        return listen(...listenArgs);
      }) as typeof server.listen;
    }
    return server;
  }) as typeof http.createServer;
  http.createServer = patched;
}
