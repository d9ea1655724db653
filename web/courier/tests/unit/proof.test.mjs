// docs/TOKEN.md vector 4, reproduced by the app's own request-proof and grant
// code (bundled from src/ with esbuild) and Node's WebCrypto: the app is a
// second, independent implementation of the spec.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const repo = join(root, "..", "..");
const tokenDoc = readFileSync(join(repo, "docs", "TOKEN.md"), "utf8");

async function load(entry) {
  const out = await esbuild.build({
    stdin: { contents: `export * from "./src/${entry}";`, resolveDir: root, loader: "ts" },
    bundle: true,
    format: "esm",
    write: false,
    logLevel: "error",
  });
  const code = Buffer.from(out.outputFiles[0].contents).toString("base64");
  return import(`data:text/javascript;base64,${code}`);
}

/** The `label: value` lines of one vector's text block in docs/TOKEN.md. */
function vector(n) {
  const section = tokenDoc.split(`### Vector ${n}`)[1].split("```text")[1].split("```")[0];
  const v = {};
  for (const line of section.trim().split("\n")) {
    const at = line.indexOf(": ");
    v[line.slice(0, at)] = line.slice(at + 2);
  }
  return v;
}

const hex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const toHex = (b) => Buffer.from(b).toString("hex");

// PKCS#8 for an Ed25519 seed (RFC 8410): WebCrypto imports private keys only so.
const PKCS8_PREFIX = "302e020100300506032b657004220420";

test("vector 4: the request message and WR1: proof, byte for byte", async () => {
  const v = vector(4);
  const token = vector(1)["token"];
  const proof = await load("proof.ts");
  const { parseGrant } = await load("grant.ts");
  const grant = parseGrant(v["grant"]);
  assert.equal(toHex(grant.grantId), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  assert.equal(toHex(await proof.tokenHash(token)), v["token sha-256"]);

  const time = 1795834800n;
  const nonce = new Uint8Array(16).fill(0x5a);
  const message = proof.requestMessage(grant.grantId, "delivery", time, nonce, [await proof.tokenHash(token)]);
  assert.equal(toHex(message), v["request message"]);

  const key = await crypto.subtle.importKey("pkcs8", hex(PKCS8_PREFIX + v["device secret"]), { name: "Ed25519" }, false, [
    "sign",
  ]);
  const wr1 = await proof.makeProof(key, grant.grantId, "delivery", [token], time, nonce);
  assert.equal(wr1, v["device_signature"]);
  assert.equal(wr1.slice(4 + 48), v["request signature"]);
});

test("vector 4: the grant's fields and its device key", async () => {
  const v = vector(4);
  const { parseGrant } = await load("grant.ts");
  const g = parseGrant("  " + v["grant"] + "\n");
  assert.equal(g.version, 2);
  assert.equal(g.courierId, "C-10023");
  assert.deepEqual(g.zones, [755021]);
  assert.equal(g.notBefore, 1795831200);
  assert.equal(g.expiresAt, 1795867200);
  assert.equal(g.scope, 7);
  assert.equal(g.quota, 300);
  assert.equal("WD1:" + g.deviceKey, v["device public key"]);
});

test("a text that is not a grant is refused, never half read", async () => {
  const good = vector(4)["grant"];
  const { parseGrant, GrantFormatError } = await load("grant.ts");
  const bad = [
    "",
    "WG3:" + good.slice(4),
    "WG1:" + good.slice(4), // the prefix and the version byte disagree
    good.slice(0, -3), // a signature cut short
    good + "00", // trailing bytes
    good.slice(0, 10) + "a" + good.slice(11), // outside the Base45 alphabet
    "WG2:A",
  ];
  for (const text of bad) {
    assert.throws(() => parseGrant(text), GrantFormatError, JSON.stringify(text.slice(0, 20)));
  }
});

test("the request message refuses sizes the spec forbids", async () => {
  const proof = await load("proof.ts");
  const id = new Uint8Array(16);
  const h = new Uint8Array(32);
  assert.throws(() => proof.requestMessage(new Uint8Array(15), "call", 1n, id, [h]));
  assert.throws(() => proof.requestMessage(id, "call", 1n, id, []));
  assert.throws(() => proof.requestMessage(id, "call", 1n, id, Array(101).fill(h)));
  const full = proof.requestMessage(id, "after-sales", 1n, id, Array(100).fill(h));
  assert.equal(full.length, 33 + 16 + 1 + 11 + 8 + 16 + 2 + 32 * 100);
});

test("every denial code of the service and the spec has words in both languages", async () => {
  const i18n = await load("i18n.ts");
  const list = tokenDoc.split("Denial codes (the complete list):")[1].split(".\n")[0];
  const specCodes = [...list.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
  const api = readFileSync(join(repo, "crates", "service", "src", "api.rs"), "utf8");
  // The codes as ErrorCode::as_str sends them: `Self::Variant => "code",`.
  const serviceCodes = [...api.matchAll(/=> "([a-z]+(?:_[a-z]+)+)",/g)].map((m) => m[1]);
  assert.ok(specCodes.length >= 23, `read ${specCodes.length} codes from TOKEN.md`);
  assert.ok(serviceCodes.includes("device_signature_invalid"), "read the service's codes");
  assert.ok(serviceCodes.length >= 20, `read ${serviceCodes.length} codes from api.rs`);
  for (const code of new Set([...specCodes, ...serviceCodes])) {
    assert.ok(i18n.DENIAL_CODES.includes(code), `no words for ${code}`);
    for (const lang of ["zh-CN", "en"]) {
      i18n.setLang(lang);
      assert.ok(!i18n.denial(code).includes(code), `${lang}: ${code} falls back to the code`);
    }
  }
  assert.equal(i18n.pickLang(["en-US", "zh-CN"]), "en");
  assert.equal(i18n.pickLang(["zh-TW", "en"]), "zh-CN");
  assert.equal(i18n.pickLang([]), "zh-CN");
});
