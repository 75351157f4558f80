import net from 'node:net';
import pg from 'pg';

/**
 * A TCP proxy on 127.0.0.1 in front of a database server that a test can cut (every open
 * connection reset, new ones refused, as when the network to the database goes away) and
 * restore.
 */
export async function cuttableProxy(target: { hostname: string; port: string | number }) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
  return {
    port,
    async cut() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    async restore() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A pg pool reaching the server of `databaseUrl` through a {@link cuttableProxy} (pg lets a
 * connectionString override host and port, so the URL is taken apart here), optionally with a
 * schema as its search path.
 */
export async function poolBehindProxy(databaseUrl: string, schema?: string) {
  const url = new URL(databaseUrl);
  const proxy = await cuttableProxy(url);
  const pool = new pg.Pool({
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
    host: '127.0.0.1',
    port: proxy.port,
    max: 4,
    connectionTimeoutMillis: 2000,
    ...(schema === undefined ? {} : { options: `-c search_path="${schema}"` }),
  });
  pool.on('error', () => {});
  return { proxy, pool };
}
