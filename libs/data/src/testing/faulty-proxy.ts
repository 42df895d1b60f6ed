import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What to do to one request instead of forwarding it faithfully:
 * `503` answers with S3's SlowDown error; `500` with InternalError; `reset`
 * destroys the connection before any response; `truncate` forwards the status
 * and headers but cuts the body off halfway and resets the connection.
 */
export type ProxyFault = '503' | '500' | 'reset' | 'truncate';

export interface FaultyProxy {
  endpoint: string;
  /** Every request seen: method, path, Range header and the fault applied, if any. */
  log: { method: string; path: string; range?: string; fault?: ProxyFault }[];
  /** Queues faults for the next requests that match `when` (default: every request). */
  inject(faults: ProxyFault[], when?: (method: string, path: string, range?: string) => boolean): void;
  close(): Promise<void>;
}

const SLOW_DOWN = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';
const INTERNAL = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>';

/**
 * A loopback HTTP proxy in front of `target` (e.g. s3rver) that injects faults
 * into chosen requests: for testing retries against a real server.
 */
export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const queue: { fault: ProxyFault; when: (method: string, path: string, range?: string) => boolean }[] = [];
  const log: FaultyProxy['log'] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    const index = queue.findIndex((q) => q.when(method, path, range));
    const fault = index >= 0 ? queue.splice(index, 1)[0].fault : undefined;
    log.push({ method, path, ...(range === undefined ? {} : { range }), ...(fault === undefined ? {} : { fault }) });
    if (fault === 'reset') {
      req.resume();
      req.socket.destroy();
      return;
    }
    if (fault === '503' || fault === '500') {
      req.resume();
      req.on('end', () => {
        res.writeHead(Number(fault), { 'content-type': 'application/xml' });
        res.end(fault === '503' ? SLOW_DOWN : INTERNAL);
      });
      return;
    }
    const forward = request({ host: upstream.hostname, port: upstream.port, method, path, headers: req.headers }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      if (fault === 'truncate') {
        const length = Number(upstreamRes.headers['content-length'] ?? 0);
        let sent = 0;
        upstreamRes.on('data', (chunk: Buffer) => {
          const room = Math.floor(length / 2) - sent;
          if (room > 0) res.write(chunk.subarray(0, room));
          sent += chunk.length;
          if (sent >= length / 2) {
            upstreamRes.destroy();
            res.socket?.destroy();
          }
        });
      } else {
        upstreamRes.pipe(res);
      }
    });
    forward.on('error', () => res.socket?.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    inject: (faults, when = () => true) => {
      for (const fault of faults) queue.push({ fault, when });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
