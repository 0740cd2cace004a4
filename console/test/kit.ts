import type { RequestEvent } from '@sveltejs/kit';
import { handle } from '../src/hooks.server';

// The API's endpoints called in this process, through the same hook as the
// built server (policy, Origin, credentials): what SvelteKit's router does for
// a +server.ts, so the same table of calls covers the code here as well as
// in the built console.

type Handler = (event: RequestEvent) => Promise<Response>;
const modules = import.meta.glob<Record<string, Handler>>('../src/routes/api/**/+server.ts');

/** Route ids (`/api/v1/targets/[id]`) with a matcher each, most specific first. */
const routes = Object.keys(modules)
  .map((file) => {
    const id = file.replace('../src/routes', '').replace('/+server.ts', '');
    const names: string[] = [];
    const pattern = new RegExp(
      `^${id.replace(/\[(\w+)\]/g, (_, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    return { id, file, names, pattern };
  })
  .sort((a, b) => b.id.length - a.id.length);

/**
 * Answers a request to an API path as the console would: the hook first,
 * then the endpoint's handler for the method (405 when it has none).
 */
export async function inProcess(url: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
  const u = new URL(url);
  const request = new Request(url, init);
  // A browser's Host, which fetch's Request leaves out (a forbidden header there).
  const headers = new Headers(init.headers);
  headers.set('host', u.host);
  Object.defineProperty(request, 'headers', { value: headers });
  const route = routes.find((r) => r.pattern.test(u.pathname));
  const params: Record<string, string> = {};
  if (route) {
    const m = route.pattern.exec(u.pathname)!;
    route.names.forEach((n, i) => {
      params[n] = decodeURIComponent(m[i + 1]!);
    });
  }
  const cookieHeader = request.headers.get('cookie') ?? '';
  const jar = new Map(
    cookieHeader
      .split(';')
      .map((c) => c.trim())
      .filter(Boolean)
      .map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)] as const),
  );
  const event = {
    request,
    url: u,
    params,
    route: { id: route?.id ?? null },
    locals: {},
    cookies: { get: (n: string) => jar.get(n), delete: (n: string) => jar.delete(n), set: () => {} },
    getClientAddress: () => '127.0.0.1',
    setHeaders: () => {},
    isDataRequest: false,
    isSubRequest: false,
  } as unknown as RequestEvent;
  try {
    return await handle({
      event,
      resolve: async (e) => {
        if (!route) return new Response('Not found', { status: 404 });
        const handler = (await modules[route.file]!())[e.request.method];
        if (!handler) return new Response(null, { status: 405 });
        return handler(e);
      },
    });
  } catch (thrown) {
    // A redirect or an error thrown from the hook, as SvelteKit answers it.
    const r = thrown as { status?: number; location?: string; body?: { message: string } };
    if (r.location) return new Response(null, { status: r.status, headers: { location: r.location } });
    throw thrown;
  }
}
