import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { openPGlite } from './db.js';

/** An embedded PGlite served over the PostgreSQL wire protocol on loopback. */
export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, for pg clients in other processes. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Opens PGlite in `dataDir` and serves it on 127.0.0.1 (port 0 = any free port),
 * so the scraper, console and CLI, each in its own process, reach one embedded
 * database through the same pg driver they use against a real server. Queries
 * from its connections are run one at a time; a transaction keeps its turn.
 * @throws when the directory holds no usable PGlite data or the port is taken
 */
export async function startEmbeddedPostgres(dataDir: string, port = 0, maxConnections = 32): Promise<EmbeddedPostgres> {
  const pglite = await openPGlite(dataDir);
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port, maxConnections });
  await server.start();
  const conn = server.getServerConn(); // "127.0.0.1:54321"
  return {
    url: `postgres://postgres@${conn}/postgres`,
    async stop() {
      await server.stop();
      await pglite.close();
    },
  };
}
