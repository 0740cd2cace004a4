/**
 * The API described: each route file under routes/api/v1 exports a `spec`
 * naming, per method, what it does and the zod schemas of its query string
 * and body — the same schema objects its handler validates with — and
 * {@link openApiDocument} turns them, with the access policy's roles, into an
 * OpenAPI 3.1 document (served at /api/v1/openapi.json). Nothing of it is
 * written by hand; a test checks every route file against it.
 */

import type * as z from 'zod/mini';
import { toJSONSchema } from 'zod/v4/core';
import { POLICY } from './auth';
import { ApiError } from './errors';

export const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

/** One operation of a route. */
export interface Operation {
  summary: string;
  description?: string;
  /** The query string's parameters, as the handler validates them. */
  query?: z.ZodMiniObject;
  /** The JSON body, as the use case validates it. */
  body?: z.ZodMiniType;
  /** The status of success (default 200). */
  status?: number;
  /** What success answers (default JSON). */
  produces?: 'application/json' | 'text/event-stream' | 'application/x-asciicast';
}

/** A route file's operations, by method. */
export type RouteSpec = Partial<Record<Method, Operation>>;

/** Declares a route's operations (an identity, for the type). */
export function routeSpec<T extends RouteSpec>(s: T): T {
  return s;
}

/**
 * A query string read with its schema: each parameter once (a repeated one as
 * a list), validated. @throws ApiError 400 naming the parameter and what it expects
 */
export function queryOf<S extends z.ZodMiniObject>(url: URL, schema: S): z.infer<S> {
  const raw: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    raw[key] = all.length > 1 ? all : all[0]!;
  }
  const r = schema.safeParse(raw);
  if (r.success) return r.data as z.infer<S>;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.');
  throw new ApiError(400, 'bad_request', field ? `${field}: ${issue.message}` : issue.message, field || undefined);
}

const json = (schema: z.ZodMiniType) =>
  toJSONSchema(schema as never, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

/** `/api/v1/targets/[id]` → `/api/v1/targets/{id}`, and the path's parameters. */
function openApiPath(routeId: string): { path: string; params: string[] } {
  const params: string[] = [];
  let path = '';
  for (const part of routeId.split('/')) {
    if (part === '') continue;
    if (part.startsWith('[') && part.endsWith(']')) {
      params.push(part.slice(1, -1));
      path += `/{${part.slice(1, -1)}}`;
    } else path += `/${part}`;
  }
  return { path, params };
}

/**
 * The OpenAPI 3.1 document of the routes given (route id → spec): each
 * operation's parameters and body from its schemas, the role it needs from the
 * access policy (`x-vigil-role`; `public` needs no credential), and the error
 * shape every route shares.
 */
export function openApiDocument(routes: Readonly<Record<string, RouteSpec>>, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const routeId of Object.keys(routes).sort()) {
    const { path, params } = openApiPath(routeId);
    const item: Record<string, unknown> = {};
    for (const method of METHODS) {
      const op = routes[routeId]![method];
      if (!op) continue;
      const rule = POLICY[routeId];
      const role = rule ? (method === 'GET' ? rule.read : rule.write) : null;
      const parameters: Record<string, unknown>[] = params.map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      if (op.query) {
        const q = json(op.query) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, schema] of Object.entries(q.properties ?? {}))
          parameters.push({
            name,
            in: 'query',
            required: q.required?.includes(name) ?? false,
            schema,
            ...(isList(schema) ? { explode: true } : {}),
          });
      }
      const status = String(op.status ?? 200);
      const produces = op.produces ?? 'application/json';
      item[method.toLowerCase()] = {
        operationId: `${method.toLowerCase()}${path.replaceAll(/[/{}.-]+(\w)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        'x-vigil-role': role,
        ...(role === 'public' ? { security: [] } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(op.body) } } } } : {}),
        responses: {
          [status]: status === '204' ? { description: 'done' } : { description: op.summary, content: { [produces]: {} } },
          default: {
            description: 'refused or failed',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        },
      };
    }
    paths[path] = item;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vigil console API',
      version,
      description:
        'Fleet state, targets, heartbeats, events, channels, users, keys. Each operation says the least role it needs in x-vigil-role.',
    },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }, { bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key: Authorization: Bearer vgl_…' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        session: { type: 'apiKey', in: 'cookie', name: 'vigil_session' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
            },
          },
        },
      },
    },
    paths,
  };
}

function isList(schema: unknown): boolean {
  const s = schema as { type?: unknown; anyOf?: { type?: unknown }[] };
  return s.type === 'array' || (s.anyOf?.some((x) => x.type === 'array') ?? false);
}
