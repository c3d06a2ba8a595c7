/** Test support: feeding and draining web streams. */

/** A ReadableStream that yields `items` in order, then closes. */
export function readableFrom<T>(items: Iterable<T>): ReadableStream<T> {
  const it = items[Symbol.iterator]();
  return new ReadableStream<T>({
    pull(controller) {
      const r = it.next();
      if (r.done === true) controller.close();
      else controller.enqueue(r.value);
    },
  });
}

/** Everything `readable` yields, in order. */
export async function readAll<T>(readable: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of readable) out.push(item);
  return out;
}

/** A WritableStream that records what it is given. */
export function recordingWritable<T>(into: T[]): WritableStream<T> {
  return new WritableStream<T>({
    write(chunk) {
      into.push(chunk);
    },
  });
}

/** Concatenation of byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** `bytes` cut at the given offsets (sorted, deduplicated, clamped). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}
