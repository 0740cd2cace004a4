import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { POLICY } from './auth';
import { METHODS, openApiDocument, queryOf, type RouteSpec } from './openapi';

const API = path.resolve(import.meta.dirname, '../../routes/api/v1');

/** Every route file under routes/api/v1, by route id. */
function routeFiles(dir = API): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) Object.assign(out, routeFiles(full));
    else if (entry === '+server.ts') out[`/api/v1/${path.relative(API, dir)}`.replace(/\/$/, '')] = full;
  }
  return out;
}

type Document = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        'x-vigil-role': string | null;
        parameters?: { name: string; in: string; schema: Record<string, unknown> }[];
        requestBody?: { content: { 'application/json': { schema: { properties?: Record<string, unknown>; required?: string[] } } } };
        responses: Record<string, unknown>;
      }
    >
  >;
};

describe('the OpenAPI document', async () => {
  const files = routeFiles();
  const modules = Object.fromEntries(
    await Promise.all(
      Object.entries(files).map(async ([id, file]) => [id, (await import(/* @vite-ignore */ file)) as Record<string, unknown>] as const),
    ),
  );
  const specs: Record<string, RouteSpec> = Object.fromEntries(Object.entries(modules).map(([id, m]) => [id, (m._spec ?? {}) as RouteSpec]));
  const doc = openApiDocument(specs, '0.0.0') as Document;
  const pathOf = (id: string) => id.replaceAll(/\[(\w+)\]/g, '{$1}');

  it('describes every method of every route file, and nothing they do not serve', () => {
    expect(Object.keys(files).length).toBeGreaterThan(25);
    for (const [id, m] of Object.entries(modules)) {
      const served = METHODS.filter((method) => typeof m[method] === 'function');
      expect(Object.keys(specs[id]!).sort(), `${id}: its spec names the methods it serves`).toEqual([...served].sort());
      expect(Object.keys(doc.paths[pathOf(id)] ?? {}).sort(), id).toEqual(served.map((x) => x.toLowerCase()).sort());
    }
  });

  it('gives each operation the role the access policy needs, a unique id, its path parameters and the error shape', () => {
    const ids = new Set<string>();
    for (const [id, spec] of Object.entries(specs))
      for (const method of Object.keys(spec)) {
        const op = doc.paths[pathOf(id)]![method.toLowerCase()]!;
        const rule = POLICY[id]!;
        expect(op['x-vigil-role'], `${method} ${id}`).toBe(method === 'GET' ? rule.read : rule.write);
        expect(ids.has(op.operationId), op.operationId).toBe(false);
        ids.add(op.operationId);
        for (const param of id.match(/\[(\w+)\]/g) ?? [])
          expect(
            op.parameters?.some((p) => p.in === 'path' && p.name === param.slice(1, -1)),
            `${id} ${param}`,
          ).toBe(true);
        expect(op.responses.default).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
      }
    expect(doc.openapi).toBe('3.1.0');
  });

  it('takes bodies and query parameters from the schemas the routes validate with', () => {
    const addTarget = doc.paths['/api/v1/targets']!.post!.requestBody!.content['application/json'].schema;
    expect(addTarget.required).toEqual(expect.arrayContaining(['name', 'url']));
    expect(Object.keys(addTarget.properties ?? {})).toEqual(
      expect.arrayContaining(['interval_seconds', 'timeout_seconds', 'labels', 'token']),
    );
    const userPatch = doc.paths['/api/v1/users/{name}']!.patch!.requestBody!.content['application/json'].schema;
    expect(userPatch.properties).toMatchObject({ two_factor: { const: false } });
    const list = doc.paths['/api/v1/targets']!.get!.parameters!;
    expect(list.find((p) => p.name === 'state')?.schema).toMatchObject({ enum: ['up', 'down', 'unknown', 'stopped', 'paused'] });
    expect(list.map((p) => p.name)).toEqual(expect.arrayContaining(['page', 'per_page', 'label', 'q']));
    const range = doc.paths['/api/v1/targets/{id}/heartbeats']!.get!.parameters!.map((p) => p.name);
    expect(range).toEqual(['id', 'from', 'to', 'step']);
    expect(doc.paths['/api/v1/health']!.get!['x-vigil-role']).toBe('public');
  });

  it('is served, built from the route files found at build time', async () => {
    const { GET } = await import('../../routes/api/v1/openapi.json/+server');
    const served = (await (await GET({ route: { id: '/api/v1/openapi.json' } } as never)).json()) as Document;
    expect(Object.keys(served.paths).sort()).toEqual(Object.keys(doc.paths).sort());
  });
});

describe('queryOf', () => {
  it('reads a repeated parameter as a list, and refuses a bad one naming it', async () => {
    const z = await import('zod/mini');
    const schema = z.object({ label: z.optional(z.union([z.string(), z.array(z.string())])), n: z.optional(z.enum(['1', '2'])) });
    expect(queryOf(new URL('http://x/?label=a=1&label=b=2&n=1'), schema)).toEqual({ label: ['a=1', 'b=2'], n: '1' });
    expect(() => queryOf(new URL('http://x/?n=3'), schema)).toThrow(/^n: /);
  });
});
