/**
 * A soak agent: one Node process inside a namespace (`ip netns exec NS node
 * agent.js HARD_LIMIT_MS`) that runs the UDP and TCP ends the driver asks for
 * over the line protocol of `agent-protocol.ts`. It exits on `exit`, when its
 * stdin closes (the driver died) or after HARD_LIMIT_MS at the latest.
 */
import { createInterface } from 'node:readline';
import type { AgentAnswer, AgentOps, AgentRequest } from './agent-protocol.js';
import { UdpSequenceSender } from './udp-sequence-sender.js';
import { UdpSequenceReceiver } from './udp-sequence-receiver.js';
import { TcpPatternSink } from './tcp-pattern-sink.js';
import { sendPatternTransfer } from './tcp-pattern-source.js';

const hardLimit = setTimeout(() => process.exit(3), Number(process.argv[2] ?? 600_000));
hardLimit.unref();

let sender: UdpSequenceSender | undefined;
let receiver: UdpSequenceReceiver | undefined;
let sink: TcpPatternSink | undefined;

function print(line: unknown): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${what} not started`);
  return v;
}

/** The arguments of `op` (the driver sends them as AgentOps declares). */
type Args<K extends keyof AgentOps> = AgentOps[K]['args'];

async function run(op: keyof AgentOps, args: unknown): Promise<unknown> {
  switch (op) {
    case 'udp-send-start':
      if (sender !== undefined) throw new Error('sender already started');
      sender = new UdpSequenceSender(args as Args<'udp-send-start'>);
      await sender.start();
      return {};
    case 'udp-pause':
      return need(sender, 'sender').pause();
    case 'udp-resume':
      need(sender, 'sender').resume();
      return {};
    case 'udp-burst':
      return need(sender, 'sender').burst((args as Args<'udp-burst'>).count);
    case 'udp-receive-start':
      if (receiver !== undefined) throw new Error('receiver already started');
      receiver = new UdpSequenceReceiver(args as Args<'udp-receive-start'>);
      await receiver.start();
      return {};
    case 'udp-receive-report':
      return need(receiver, 'receiver').counts();
    case 'tcp-sink-start': {
      if (sink !== undefined) throw new Error('sink already started');
      const a = args as Args<'tcp-sink-start'>;
      sink = new TcpPatternSink((e) => print(e));
      await sink.listen(a.address, a.port);
      return {};
    }
    case 'tcp-transfer': {
      const a = args as Args<'tcp-transfer'>;
      return sendPatternTransfer(a.address, a.port, a.seed, a.bytes, a.timeoutMs);
    }
    case 'exit':
      await shutdown();
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw new Error(`unknown op ${String(op)}`);
  }
}

async function shutdown(): Promise<void> {
  if (sender !== undefined) await sender.close();
  receiver?.close();
  sink?.close();
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let req: AgentRequest;
  try {
    req = JSON.parse(line) as AgentRequest;
  } catch {
    return;
  }
  run(req.op, req.args).then(
    (result) => print({ id: req.id, ok: true, result } satisfies AgentAnswer),
    (e: unknown) => print({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies AgentAnswer),
  );
});
lines.on('close', () => {
  void shutdown().finally(() => process.exit(0));
});
