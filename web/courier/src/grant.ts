// Reads enough of a courier grant (`WG1:` / `WG2:` + Base45, docs/TOKEN.md
// "Courier grant") to show it and to check which device it is bound to. The
// signature is the resolver's to check: the app does not hold the issuer keys.

import { fromBase45, toHex } from "./codec";

/** What the app shows of a grant. */
export interface GrantInfo {
  /** 1 (bearer) or 2 (bound to a device). */
  version: 1 | 2;
  grantId: Uint8Array;
  courierId: string;
  notBefore: number;
  expiresAt: number;
  /** Scope bits: 1 name, 2 phone, 4 address, 8 items. */
  scope: number;
  quota: number;
  zones: number[];
  /** Version 2: the bound device's public key, lower-case hex. */
  deviceKey: string | null;
}

/** Why a text is not a grant. */
export class GrantFormatError extends Error {}

class Reader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) {
      throw new GrantFormatError("truncated");
    }
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }
  u64(): number {
    const b = this.take(8);
    const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  left(): number {
    return this.bytes.length - this.at;
  }
}

/** Parses a grant's text (surrounding white space allowed). */
export function parseGrant(text: string): GrantInfo {
  const t = text.trim();
  const version = t.startsWith("WG2:") ? 2 : t.startsWith("WG1:") ? 1 : 0;
  if (version === 0) {
    throw new GrantFormatError("prefix");
  }
  const bytes = fromBase45(t.slice(4));
  if (!bytes) {
    throw new GrantFormatError("base45");
  }
  const r = new Reader(bytes);
  if (r.u8() !== version) {
    throw new GrantFormatError("version");
  }
  r.take(8); // issuer id
  const grantId = Uint8Array.from(r.take(16));
  const idLen = r.u8();
  if (idLen < 1 || idLen > 64) {
    throw new GrantFormatError("courier id");
  }
  const idBytes = r.take(idLen);
  if (idBytes.some((b) => b < 0x21 || b > 0x7e)) {
    throw new GrantFormatError("courier id");
  }
  const courierId = String.fromCharCode(...idBytes);
  const notBefore = r.u64();
  const expiresAt = r.u64();
  if (expiresAt <= notBefore) {
    throw new GrantFormatError("window");
  }
  const scope = r.u8();
  if (scope === 0 || (scope & ~0x0f) !== 0) {
    throw new GrantFormatError("scope");
  }
  const quota = r.u32();
  if (quota < 1) {
    throw new GrantFormatError("quota");
  }
  const zoneCount = r.u8();
  if (zoneCount < 1 || zoneCount > 64) {
    throw new GrantFormatError("zones");
  }
  const zones: number[] = [];
  for (let i = 0; i < zoneCount; i++) {
    const z = r.u32();
    if (!zones.includes(z)) {
      zones.push(z);
    }
  }
  const deviceKey = version === 2 ? toHex(r.take(32)) : null;
  r.take(64); // signature
  if (r.left() !== 0) {
    throw new GrantFormatError("trailing bytes");
  }
  return { version, grantId, courierId, notBefore, expiresAt, scope, quota, zones, deviceKey };
}
