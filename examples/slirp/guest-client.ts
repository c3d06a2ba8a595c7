/**
 * The client run inside the guest namespace (`ip netns exec G node guest-client.js ...`):
 *
 *   fetch URL            GET URL, prints `{"status":200,"body":"..."}`
 *   probe HOST:PORT...   one TCP connect per target, prints `{"target":"...","result":"connected"|"ECONNREFUSED"|...}`
 *
 * One JSON object per line; every attempt gives up after TIMEOUT_MS.
 */
import { get } from 'node:http';
import { connect } from 'node:net';

const TIMEOUT_MS = 5000;

/** Result of `fetch`. */
export interface FetchResult {
  status: number;
  body: string;
}

/** Result of one `probe` target. */
export interface ProbeResult {
  target: string;
  result: string;
}

function fetchPage(url: string): Promise<FetchResult> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('ETIMEDOUT')));
    req.on('error', reject);
  });
}

function probe(target: string): Promise<ProbeResult> {
  const [host, port] = target.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host: host!, port: Number(port) });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ target, result: 'ETIMEDOUT' });
    }, TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ target, result: 'connected' });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ target, result: err.code ?? err.message });
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'fetch' && args.length === 1) {
    console.log(JSON.stringify(await fetchPage(args[0]!)));
    return 0;
  }
  if (command === 'probe' && args.length > 0) {
    for (const target of args) console.log(JSON.stringify(await probe(target)));
    return 0;
  }
  console.error('usage: guest-client.js fetch URL | probe HOST:PORT...');
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    console.error(`guest-client: ${err.message}`);
    process.exitCode = 1;
  },
);
