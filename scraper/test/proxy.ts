import net from 'node:net';

/**
 * A TCP proxy to a database server that a test can cut and restore, as a
 * database outage looks to its clients: while cut, open connections are reset
 * and new ones refused (nothing listens on the port); restored, it listens on
 * the same port again.
 */
export interface CuttableProxy {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function cuttableProxy(targetHost: string, targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<net.Socket>();
  const make = () =>
    net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      sockets.add(client);
      sockets.add(upstream);
      for (const s of [client, upstream]) {
        s.on('error', () => {});
        s.on('close', () => {
          sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  let server: net.Server | null = make();
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const cut = async () => {
    const s = server;
    server = null;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  return {
    port,
    cut,
    async restore() {
      if (server) return;
      server = make();
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    },
    close: cut,
  };
}
