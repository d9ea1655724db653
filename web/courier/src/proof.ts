// The request proof (`WR1:`), exactly as docs/TOKEN.md "Signed requests" says:
// the device signs DOMAIN || grant id || purpose || time || nonce || token
// count || SHA-256 of each token, and sends time || nonce || signature as hex.

import { concat, toHex } from "./codec";

/** The signed message's domain string (33 ASCII bytes). */
export const DOMAIN = "waybill-redact resolve request v1";

/** The purposes the resolver accepts. */
export const PURPOSES = ["delivery", "call", "return", "after-sales"] as const;
export type Purpose = (typeof PURPOSES)[number];

/** Tokens per request, at most (the service's batch limit). */
export const MAX_TOKENS = 100;

const ascii = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s);

function u64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

/** SHA-256 of a token's text, without surrounding white space. */
export async function tokenHash(token: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", ascii(token.trim())));
}

/** The bytes the device signs. */
export function requestMessage(
  grantId: Uint8Array,
  purpose: Purpose,
  time: bigint,
  nonce: Uint8Array,
  tokenHashes: Uint8Array[],
): Uint8Array<ArrayBuffer> {
  if (grantId.length !== 16 || nonce.length !== 16) {
    throw new Error("grant id and nonce are 16 bytes");
  }
  if (tokenHashes.length < 1 || tokenHashes.length > MAX_TOKENS) {
    throw new Error("1 to 100 tokens");
  }
  const p = ascii(purpose);
  const count = new Uint8Array([tokenHashes.length >> 8, tokenHashes.length & 0xff]);
  return concat([ascii(DOMAIN), grantId, new Uint8Array([p.length]), p, u64(time), nonce, count, ...tokenHashes]);
}

/** Signs a request with the device's key and returns its `WR1:` text. */
export async function makeProof(
  key: CryptoKey,
  grantId: Uint8Array,
  purpose: Purpose,
  tokens: readonly string[],
  time: bigint,
  nonce: Uint8Array,
): Promise<string> {
  const hashes = await Promise.all(tokens.map(tokenHash));
  const message = requestMessage(grantId, purpose, time, nonce, hashes);
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", key, message));
  return "WR1:" + toHex(concat([u64(time), nonce, signature]));
}

/** A proof for now, with a fresh random nonce. */
export function proveNow(
  key: CryptoKey,
  grantId: Uint8Array,
  purpose: Purpose,
  tokens: readonly string[],
): Promise<string> {
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const time = BigInt(Math.floor(Date.now() / 1000));
  return makeProof(key, grantId, purpose, tokens, time, nonce);
}
