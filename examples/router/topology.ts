/**
 * The example network: namespace A (198.18.1.0/24, fd00:1::/64) and namespace B
 * (198.18.2.0/24, fd00:2::/64), each reaching the other only through its device
 * of the router. The router itself answers as .254 / ::fe on each side.
 *
 * ```
 *  ns A  198.18.1.1  fd00:1::1  tpra0 ═══ router ═══ tprb0  198.18.2.1  fd00:2::1  ns B
 * ```
 */
import type { RouterSide } from './router.js';

/** Host addresses of the example network, for clients and servers. */
export const EXAMPLE_HOSTS = {
  a: { ipv4: '198.18.1.1', ipv6: 'fd00:1::1' },
  b: { ipv4: '198.18.2.1', ipv6: 'fd00:2::1' },
} as const;

/** The two sides of the example network, devices created in namespaces `a` and `b`. */
export function exampleSides(a: string, b: string): [RouterSide, RouterSide] {
  return [
    {
      netns: a, name: 'tpra0', ipv4: [EXAMPLE_HOSTS.a.ipv4, 24], ipv6: [EXAMPLE_HOSTS.a.ipv6, 64],
      routes: ['198.18.2.0/24', 'fd00:2::/64'], router: { ipv4: '198.18.1.254', ipv6: 'fd00:1::fe' },
    },
    {
      netns: b, name: 'tprb0', ipv4: [EXAMPLE_HOSTS.b.ipv4, 24], ipv6: [EXAMPLE_HOSTS.b.ipv6, 64],
      routes: ['198.18.1.0/24', 'fd00:1::/64'], router: { ipv4: '198.18.2.254', ipv6: 'fd00:2::fe' },
    },
  ];
}
