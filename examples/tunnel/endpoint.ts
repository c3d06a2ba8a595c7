/** The tunnel's transport endpoints as the command line writes them: `198.18.10.2:7000`, `[fd00:10::2]:7000`. */

/** A host and a TCP port. */
export interface Endpoint {
  host: string;
  port: number;
}

/** Parses `HOST:PORT` or `[IPV6]:PORT`; throws a RangeError naming the bad input. */
export function parseEndpoint(text: string): Endpoint {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`endpoint must be HOST:PORT or [IPV6]:PORT with a port 1..65535, got ${JSON.stringify(text)}`);
  }
  return { host: m[1]!, port };
}

/** `HOST:PORT`, brackets around IPv6 hosts. */
export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Parses `ADDRESS/PREFIX` (`198.18.30.1/24`, `fd00:30::1/64`). */
export function parseCidr(text: string): { address: string; prefix: number; v6: boolean } {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(text);
  const v6 = m !== null && m[1]!.includes(':');
  const prefix = m === null ? NaN : Number(m[2]);
  if (m === null || prefix > (v6 ? 128 : 32)) throw new RangeError(`address must be ADDRESS/PREFIX, got ${JSON.stringify(text)}`);
  return { address: m[1]!, prefix, v6 };
}
