import { json } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { openApiDocument, type RouteSpec, routeSpec } from '$lib/server/openapi';
import { version } from '../../../../../package.json';
import type { RequestHandler } from './$types';

/** Every API route file's `spec`, by route id (this one's own below). */
const modules = import.meta.glob<RouteSpec>(['../**/+server.ts', '!./+server.ts'], { eager: true, import: '_spec' });

/** The route id of a module found by the glob: `../targets/[id]/+server.ts` → `/api/v1/targets/[id]`. */
function routeIdOf(file: string): string {
  return `/api/v1/${file.slice('../'.length, -'/+server.ts'.length)}`;
}

export const _spec = routeSpec({
  GET: { summary: 'This document: the API described in OpenAPI 3.1, made from the schemas the routes validate with' },
});

let document: Record<string, unknown> | null = null;

/** The OpenAPI 3.1 document of the API, built once from the route files' specs. */
export const GET: RequestHandler = api(async () => {
  document ??= openApiDocument(
    { ...Object.fromEntries(Object.entries(modules).map(([file, s]) => [routeIdOf(file), s ?? {}])), '/api/v1/openapi.json': _spec },
    version,
  );
  return json(document);
});
