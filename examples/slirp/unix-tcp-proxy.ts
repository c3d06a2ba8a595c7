/**
 * A unix-socket-to-TCP proxy: slirp's guest forward (`slirp_add_unix`) connects
 * to a unix socket; this relays each such connection to a TCP server (the HTTP
 * server on the host's loopback). TCP sockets are created in the namespace the
 * main thread is in when a connection arrives: keep it in the host namespace.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

/** Where a UnixTcpProxy listens and where it connects. */
export interface UnixTcpProxyOptions {
  /** Path of the unix socket to listen on (replaced if it exists). */
  unixPath: string;
  /** TCP host to connect to. Default `127.0.0.1`. */
  host?: string;
  /** TCP port to connect to. */
  port: number;
}

/** Socket files of the proxies alive in this process. */
const livePaths = new Set<string>();
let exitHooked = false;

/** Listens on a unix socket and pipes every connection to a TCP server. */
export class UnixTcpProxy {
  /** The unix socket path. */
  readonly unixPath: string;
  /** Connections accepted so far. */
  accepted = 0;
  readonly #server: Server;
  readonly #open = new Set<Socket>();

  private constructor(unixPath: string, server: Server) {
    this.unixPath = unixPath;
    this.#server = server;
  }

  /** Starts listening; resolves once the socket exists. */
  static async listen(options: UnixTcpProxyOptions): Promise<UnixTcpProxy> {
    const host = options.host ?? '127.0.0.1';
    rmSync(options.unixPath, { force: true });
    const server = createServer();
    const proxy = new UnixTcpProxy(options.unixPath, server);
    server.on('connection', (inbound) => {
      proxy.accepted++;
      const outbound = createConnection({ host, port: options.port });
      proxy.#track(inbound);
      proxy.#track(outbound);
      inbound.pipe(outbound);
      outbound.pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.unixPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    livePaths.add(options.unixPath);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', UnixTcpProxy.removeSocketFilesSync);
    }
    return proxy;
  }

  /**
   * Removes the socket files of every live proxy, synchronously: for exit and signal
   * handlers, where close() cannot run. (Runs on process exit by itself.)
   */
  static removeSocketFilesSync(this: void): void {
    for (const path of livePaths) rmSync(path, { force: true });
    livePaths.clear();
  }

  #track(socket: Socket): void {
    this.#open.add(socket);
    socket.on('close', () => this.#open.delete(socket));
  }

  /** Stops listening, drops open connections and removes the socket file. */
  async close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.unixPath, { force: true });
    livePaths.delete(this.unixPath);
  }

  /** Same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
