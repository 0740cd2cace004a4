import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/**
 * Serves captured Docker Engine API answers (a fixture tree's `docker/containers.json`
 * and `docker/inspect.json`) on a unix socket, with an event stream that stays open.
 */
export async function dockerFixtureServer(tree: string, socketPath: string): Promise<{ close(): Promise<void> }> {
  const list = readFileSync(path.join(tree, 'docker/containers.json'));
  const inspect = readFileSync(path.join(tree, 'docker/inspect.json'));
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    res.setHeader('content-type', 'application/json');
    if (url.startsWith('/containers/json')) return res.end(list);
    if (/^\/containers\/[0-9a-f]{64}\/json$/.test(url)) return res.end(inspect);
    if (url.startsWith('/events')) return res.write(''); // open, quiet
    res.statusCode = 404;
    res.end('{"message":"not in the fixture"}');
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return {
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
