import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/**
 * Serves one embedded PGlite over the PostgreSQL wire protocol to many client
 * connections (the scraper's, the console's and the CLI's pools).
 *
 * PGlite is a single backend session, so the connections take turns, and a
 * turn is a whole unit of work: a simple query ('Q'), or an extended-protocol
 * sequence up to its Sync ('S': Parse, Bind, Describe, Execute, Sync as pg
 * sends them). Handing PGlite one message at a time (as @electric-sql/
 * pglite-socket 0.2 does) lets another connection's Parse land between a
 * Parse and its Bind, so a Bind meets the wrong statement ("bind message
 * supplies 3 parameters, but prepared statement requires 26"). While a
 * transaction is open only its connection takes turns; a connection that goes
 * away inside one has it rolled back.
 */
export class PGliteServer {
  #server: net.Server | null = null;
  #queue: { conn: Connection; bytes: Uint8Array }[] = [];
  #running = false;
  /** The connection that ran last: the owner of an open transaction. */
  #last: Connection | null = null;
  readonly #connections = new Set<Connection>();

  constructor(
    private readonly db: PGlite,
    private readonly options: { host?: string; port?: number; maxConnections?: number } = {},
  ) {}

  /** Listens; resolves with the port bound. @throws the listen error (EADDRINUSE, …) */
  async start(): Promise<number> {
    await this.db.waitReady;
    const server = net.createServer((socket) => this.#accept(socket));
    server.maxConnections = this.options.maxConnections ?? 64;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    return (server.address() as net.AddressInfo).port;
  }

  /** Closes every connection and stops listening. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const c of this.#connections) c.socket.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  #accept(socket: net.Socket): void {
    const conn = new Connection(socket, (bytes) => this.#enqueue(conn, bytes));
    this.#connections.add(conn);
    socket.setNoDelay(true);
    socket.on('error', () => {}); // a client going away is ordinary
    socket.on('close', () => void this.#gone(conn));
  }

  #enqueue(conn: Connection, bytes: Uint8Array): void {
    this.#queue.push({ conn, bytes });
    void this.#run();
  }

  async #gone(conn: Connection): Promise<void> {
    this.#connections.delete(conn);
    this.#queue = this.#queue.filter((q) => q.conn !== conn);
    if (this.#server === null || this.db.closed) return; // stopping: nothing left to serve
    if (this.#last === conn) {
      this.#last = null;
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK').catch(() => {});
    }
    void this.#run();
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        if (this.db.closed) return;
        const i = this.db.isInTransaction() && this.#last ? this.#queue.findIndex((q) => q.conn === this.#last) : 0;
        if (i < 0 || this.#queue.length === 0) return; // the owner of the open transaction has nothing yet
        const [{ conn, bytes }] = this.#queue.splice(i, 1) as [{ conn: Connection; bytes: Uint8Array }];
        this.#last = conn;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(bytes, {
              onRawData: (chunk) => {
                if (!conn.socket.destroyed) conn.socket.write(chunk);
              },
            }),
          );
        } catch {
          conn.socket.destroy(); // PGlite could not take it: end that connection, keep serving the others
        }
      }
    } finally {
      this.#running = false;
    }
  }
}

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const GSSENC_REQUEST = 80877104;

/** One client connection: splits its bytes into units of work (see {@link PGliteServer}). */
class Connection {
  #buffer: Buffer = Buffer.alloc(0);
  #started = false;
  #pending: Buffer[] = [];

  constructor(
    readonly socket: net.Socket,
    private readonly submit: (bytes: Uint8Array) => void,
  ) {
    socket.on('data', (d: Buffer) => this.#data(d));
  }

  #data(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    for (;;) {
      if (!this.#started) {
        // Startup phase: untyped messages (length, code).
        if (this.#buffer.length < 8) return;
        const length = this.#buffer.readInt32BE(0);
        if (this.#buffer.length < length) return;
        const code = this.#buffer.readInt32BE(4);
        const message = this.#buffer.subarray(0, length);
        this.#buffer = this.#buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.socket.write('N'); // no TLS on loopback; the client goes on in plain text
          continue;
        }
        if (code === CANCEL_REQUEST) {
          this.socket.end(); // not supported: PGlite runs one query at a time anyway
          return;
        }
        this.#started = true;
        this.submit(new Uint8Array(message));
        continue;
      }
      if (this.#buffer.length < 5) return;
      const length = 1 + this.#buffer.readInt32BE(1);
      if (this.#buffer.length < length) return;
      const type = this.#buffer[0]!;
      const message = this.#buffer.subarray(0, length);
      this.#buffer = this.#buffer.subarray(length);
      if (type === 0x58) {
        // 'X' Terminate: the client is done.
        this.socket.end();
        return;
      }
      this.#pending.push(message);
      // A unit ends at Sync ('S'), a simple Query ('Q') or a Flush ('H').
      if (type === 0x53 || type === 0x51 || type === 0x48) {
        const unit = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
        this.#pending = [];
        this.submit(new Uint8Array(unit));
      }
    }
  }
}
