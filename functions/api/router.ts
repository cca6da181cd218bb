/**
 * A tiny router over method + path, independent of any HTTP framework. Paths follow Google's
 * custom-method style, `/jobs/{id}:approve`: a parameter never spans `/` or `:`, so `abc:approve`
 * is the job `abc` and the verb `approve`. Segments are percent-decoded before matching, because
 * some clients send the colon as `%3A`.
 */
import { ApiError } from './errors.ts';

export type Params = Record<string, string>;

export interface Route<Context> {
  method: string;
  pattern: string;
  handle(context: Context, params: Params): Promise<RouteResult>;
}

export interface RouteResult {
  status?: number;
  body: unknown;
}

interface CompiledRoute<Context> extends Route<Context> {
  regex: RegExp;
  names: string[];
}

function compile<Context>(route: Route<Context>): CompiledRoute<Context> {
  const names: string[] = [];
  const source = route.pattern
    .split(/(\{[a-zA-Z]+\})/)
    .map((part) => {
      const name = /^\{([a-zA-Z]+)\}$/.exec(part)?.[1];
      if (name) {
        names.push(name);
        return '([^/:]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { ...route, regex: new RegExp(`^${source}$`), names };
}

/** Decodes each segment; a malformed escape is a client error, not a crash. */
function decodePath(path: string): string {
  try {
    return path
      .split('/')
      .map((segment) => decodeURIComponent(segment))
      .join('/');
  } catch {
    throw new ApiError('INVALID_ARGUMENT', 'the request path is not valid percent-encoding');
  }
}

export interface Router<Context> {
  /** The handler result, or throws ApiError: 404 for an unknown path, 405 for a known path with another method. */
  dispatch(method: string, rawPath: string, context: Context): Promise<RouteResult>;
}

export function createRouter<Context>(routes: Route<Context>[]): Router<Context> {
  const compiled = routes.map(compile);
  return {
    async dispatch(method, rawPath, context) {
      let path = decodePath(rawPath);
      if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
      const allowed: string[] = [];
      for (const route of compiled) {
        const match = route.regex.exec(path);
        if (!match) continue;
        if (route.method !== method.toUpperCase()) {
          allowed.push(route.method);
          continue;
        }
        const params = Object.fromEntries(route.names.map((name, index) => [name, match[index + 1] ?? '']));
        return route.handle(context, params);
      }
      if (allowed.length > 0) {
        throw new ApiError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, [], {
          allow: allowed.join(', '),
        });
      }
      throw new ApiError('NOT_FOUND', `no route for ${method} ${path}`);
    },
  };
}
