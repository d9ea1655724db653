// What the app keeps on the phone: the device key pair (the private half
// non-extractable) and the grant's text. Nothing else: no disclosure, no token.

import { toHex } from "./codec";

const DB = "waybill-courier";
const STORE = "kv";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result as T);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** The device's key pair and its `WD1:` text. */
export interface DeviceKey {
  privateKey: CryptoKey;
  publicHex: string;
}

/**
 * The stored device key, made on first use: Ed25519 with a non-extractable
 * private key, so no script (this app's included) can read it.
 */
export async function deviceKey(): Promise<DeviceKey> {
  let pair = await run<CryptoKeyPair | undefined>("readonly", (s) => s.get("device"));
  if (!pair) {
    pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair;
    await run("readwrite", (s) => s.put(pair, "device"));
  }
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicHex: toHex(raw) };
}

/** The stored grant's text, if any. */
export function loadGrant(): Promise<string | undefined> {
  return run<string | undefined>("readonly", (s) => s.get("grant"));
}

/** Stores the grant's text. */
export async function saveGrant(text: string): Promise<void> {
  await run("readwrite", (s) => s.put(text, "grant"));
}
