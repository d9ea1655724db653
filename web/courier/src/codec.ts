// Text codecs the app needs: lower-case hex and RFC 9285 Base45, both strict.

const HEX = "0123456789abcdef";

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}

/** Bytes of a hex string (either case); `null` when it is not hex. */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    return null;
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/** RFC 9285 Base45 decoding; `null` for anything that is not canonical Base45. */
export function fromBase45(text: string): Uint8Array | null {
  if (text.length % 3 === 1) {
    return null;
  }
  const values: number[] = [];
  for (const ch of text) {
    const v = B45.indexOf(ch);
    if (v < 0) {
      return null;
    }
    values.push(v);
  }
  const out: number[] = [];
  for (let i = 0; i < values.length; i += 3) {
    const c = values[i]!;
    const d = values[i + 1]!;
    if (i + 2 < values.length) {
      const n = c + d * 45 + values[i + 2]! * 45 * 45;
      if (n > 0xffff) {
        return null;
      }
      out.push(n >> 8, n & 0xff);
    } else {
      const n = c + d * 45;
      if (n > 0xff) {
        return null;
      }
      out.push(n);
    }
  }
  return Uint8Array.from(out);
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
