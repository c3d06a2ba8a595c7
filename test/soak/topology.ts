/**
 * Where the soak's relay lives. Four TUN devices, all opened in a home namespace
 * H (their queue fds pin H) and moved into two namespaces A and B, so deleting A
 * or B really destroys the devices inside it under the running relay:
 *
 * ```
 *  ns A                        relay (this process, 4 devices × 2 queues)                ns B
 *  udp sender → tpuaN 198.18.1.1 ══ dev 0 ─PASS→ main thread ─trySend→ dev 1 ══ tpubN 198.18.2.1 → udp receiver
 *  tcp source ↔ tptaN 198.18.3.1 ══ dev 2 ◄────FORWARD in the workers────► dev 3 ══ tptbN 198.18.4.1 ↔ tcp sink
 * ```
 *
 * UDP and TCP use separate devices so that each device's kernel drop counters
 * count one kind of traffic only (the UDP books must close exactly). The UDP
 * devices carry no offload (one write = one datagram); the TCP devices do.
 * IPv6 is off in every namespace (no router solicitations or MLD reports).
 */
import { createNetns, type Netns, type TestContext } from '@tunpipe/testkit';

/** The roles of the four devices, in device-index order. */
export type Role = 'udpA' | 'udpB' | 'tcpA' | 'tcpB';

/** The namespaces around the relay. */
export type Side = 'A' | 'B';

/** How one device is named, addressed and routed. */
export interface LinkSpec {
  /** Its role. */
  role: Role;
  /** Device index in the queue set. */
  device: number;
  /** Namespace it lives in. */
  side: Side;
  /** Its address (/24). */
  address: string;
  /** Routes through it (the other side's subnet). */
  routes: readonly string[];
  /** virtio-net offload. */
  offload: boolean;
  /** Name prefix (the epoch number is appended). */
  prefix: string;
}

/** The four devices. Addresses only from 198.18.0.0/15. */
export const LINKS: readonly LinkSpec[] = [
  { role: 'udpA', device: 0, side: 'A', address: '198.18.1.1', routes: ['198.18.2.0/24'], offload: false, prefix: 'tpua' },
  { role: 'udpB', device: 1, side: 'B', address: '198.18.2.1', routes: ['198.18.1.0/24'], offload: false, prefix: 'tpub' },
  { role: 'tcpA', device: 2, side: 'A', address: '198.18.3.1', routes: ['198.18.4.0/24'], offload: true, prefix: 'tpta' },
  { role: 'tcpB', device: 3, side: 'B', address: '198.18.4.1', routes: ['198.18.3.0/24'], offload: true, prefix: 'tptb' },
];

/** The spec of a role. */
export function link(role: Role): LinkSpec {
  return LINKS.find((l) => l.role === role)!;
}

/** Device name of `spec` in epoch `epoch`. */
export function linkName(spec: LinkSpec, epoch: number): string {
  return `${spec.prefix}${epoch}`;
}

/** The soak's namespaces (all `tp-soak-*`, deleted in the context's teardown). */
export class SoakNamespaces {
  /** Where the devices are created and their fds opened. */
  readonly home: Netns;
  private a: Netns;
  private b: Netns;
  private readonly ctx: TestContext;

  /** Creates H, A and B. */
  constructor(ctx: TestContext) {
    this.ctx = ctx;
    this.home = SoakNamespaces.create(ctx);
    this.a = SoakNamespaces.create(ctx);
    this.b = SoakNamespaces.create(ctx);
  }

  private static create(ctx: TestContext): Netns {
    const ns = createNetns(ctx, 'soak');
    ns.disableIpv6Sync();
    return ns;
  }

  /** The namespace of `side`. */
  of(side: Side): Netns {
    return side === 'A' ? this.a : this.b;
  }

  /** Deletes the namespace of `side` now (destroying the devices in it). */
  async delete(side: Side): Promise<void> {
    await this.of(side).delete();
  }

  /** Creates a fresh namespace for `side` (after `delete`). */
  recreate(side: Side): Netns {
    const ns = SoakNamespaces.create(this.ctx);
    if (side === 'A') this.a = ns;
    else this.b = ns;
    return ns;
  }

  /** Deletes every namespace (idempotent; the context's teardown does it too). */
  async deleteAll(): Promise<void> {
    await Promise.all([this.a.delete(), this.b.delete(), this.home.delete()]);
  }
}

/** Moves device `name` from H into its side's namespace and gives it address, link and routes there. */
export async function placeLink(spaces: SoakNamespaces, spec: LinkSpec, name: string): Promise<void> {
  const ns = spaces.of(spec.side);
  await spaces.home.ip('link', 'set', 'dev', name, 'netns', ns.name);
  await ns.ip('addr', 'add', `${spec.address}/24`, 'dev', name);
  await ns.ip('link', 'set', 'dev', name, 'up');
  for (const r of spec.routes) await ns.ip('route', 'replace', r, 'dev', name);
}

/** Brings a link up again and restores its routes (a link going down loses them). */
export async function linkUp(ns: Netns, spec: LinkSpec, name: string): Promise<void> {
  await ns.ip('link', 'set', 'dev', name, 'up');
  for (const r of spec.routes) await ns.ip('route', 'replace', r, 'dev', name);
}
