/**
 * The line protocol between the soak driver and its agents (one Node process per
 * namespace, `agent.js`): the driver writes one JSON request per line to the
 * agent's stdin; the agent answers each on stdout, and also prints unsolicited
 * events there.
 *
 * ```
 * driver → agent   {"id":7,"op":"udp-pause"}
 * agent → driver   {"id":7,"ok":true,"result":{"sent":1200,...}}
 *                  {"id":8,"ok":false,"error":"..."}
 *                  {"event":"tcp-received","seed":5,"bytes":4194304,"ok":true}
 * ```
 */

/** A request line. */
export interface AgentRequest {
  /** Matches the answer to the request. */
  id: number;
  /** What to do (see `AgentOps`). */
  op: keyof AgentOps;
  /** The op's arguments. */
  args?: unknown;
}

/** An answer line. */
export type AgentAnswer = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** An event line: a TCP transfer the sink finished verifying. */
export interface TcpReceivedEvent {
  /** Event name. */
  event: 'tcp-received';
  /** Seed from the transfer header (-1 when no header arrived). */
  seed: number;
  /** Pattern bytes received (header excluded). */
  bytes: number;
  /** Length the header announced. */
  expected: number;
  /** True when every byte matched the pattern and the length is the announced one. */
  ok: boolean;
  /** Offset of the first wrong byte, or -1. */
  mismatchAt: number;
}

/** Counters of the UDP sequence sender. */
export interface UdpSenderCounts {
  /** Datagrams the kernel accepted (sendmsg succeeded). */
  sent: number;
  /** Datagrams whose send failed, by error code (e.g. ENETUNREACH while the link is down). */
  errors: Record<string, number>;
  /** The next sequence number it would use (first + sent + failed). */
  nextSeq: number;
}

/** Counters of the UDP sequence receiver. */
export interface UdpReceiverCounts {
  /** Distinct sequence numbers received. */
  received: number;
  /** Datagrams whose sequence number had been received before. */
  duplicates: number;
  /** Datagrams outside [first, first + capacity). */
  outOfRange: number;
  /** Datagrams whose payload did not match the pattern of their sequence number. */
  badPayload: number;
}

/** Request arguments and results per op. */
export interface AgentOps {
  /** Starts the paced sequence sender. */
  'udp-send-start': {
    args: { dst: string; port: number; flows: number; size: number; pps: number; firstSeq: number; maxPackets: number };
    result: Record<string, never>;
  };
  /** Stops sending and resolves once every send completed. */
  'udp-pause': { args: undefined; result: UdpSenderCounts };
  /** Resumes paced sending (no catch-up burst). */
  'udp-resume': { args: undefined; result: Record<string, never> };
  /** Sends `count` datagrams as fast as the socket takes them, then resolves. */
  'udp-burst': { args: { count: number }; result: UdpSenderCounts };
  /** Binds the receiver. */
  'udp-receive-start': { args: { address: string; port: number; firstSeq: number; capacity: number }; result: Record<string, never> };
  /** The receiver's counters now. */
  'udp-receive-report': { args: undefined; result: UdpReceiverCounts };
  /** Listens for transfers; each finished one is reported as a `tcp-received` event. */
  'tcp-sink-start': { args: { address: string; port: number }; result: Record<string, never> };
  /** Connects, sends one pattern transfer and resolves when the sink closed the connection. */
  'tcp-transfer': { args: { address: string; port: number; seed: number; bytes: number; timeoutMs: number }; result: { bytes: number; ms: number } };
  /** Closes every socket and exits. */
  'exit': { args: undefined; result: Record<string, never> };
}
