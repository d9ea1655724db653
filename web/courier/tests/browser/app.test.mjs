// The courier's app in Debian's chromium against the real resolver service
// (SQLite, 127.0.0.1), the camera faked with a video of a label our renderer
// drew. Issue 21's seven browser tests.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WAYBILL, bundleForPage, cameraVideo, decodeGrayPng, findQr, launch, openApp, saveGrant, startWorld } from "./harness.mjs";

const T = { timeout: 90_000 };

let world;
let browser;

before(async () => {
  world = await startWorld();
  browser = await launch(world.video);
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

/** Scans with the fake camera; resolves when a disclosure or a denial shows. */
async function scan(page) {
  await page.getByTestId("scan-start").click();
  await page.waitForSelector('#disclosure:not([hidden]), [data-testid="error-code"]:not(:empty)');
}

const phone = WAYBILL.recipient.phone;
const name = WAYBILL.recipient.name;

describe("courier app", () => {
  test("1. end to end: enroll, grant from the CLI, scan, the phone is shown", T, async () => {
    const { context, page, deviceKey } = await openApp(browser, world.url, { clock: true });
    assert.match(deviceKey, /^WD1:[0-9a-f]{64}$/);
    const status = await saveGrant(page, world.grant(deviceKey));
    assert.match(status, /C-10023/);
    assert.match(status, /755021/);
    await page.getByTestId("purpose").selectOption("call");
    await scan(page);
    assert.equal(await page.getByTestId("error-code").textContent(), "");
    assert.equal(await page.getByTestId("disclosure-phone").textContent(), phone);
    assert.equal(await page.getByTestId("disclosure-phone").getAttribute("href"), `tel:${phone}`);
    assert.equal(await page.getByTestId("disclosure-name").textContent(), name);
    assert.match(await page.getByTestId("disclosure-address").textContent(), /1001室/);
    // Sixty seconds later it is gone, without anyone touching the phone.
    await page.clock.fastForward(61_000);
    assert.equal(await page.getByTestId("disclosure-phone").textContent(), "");
    assert.equal(await page.getByTestId("disclosure-name").textContent(), "");
    await context.close();
  });

  test("2. wrong zone: the service's denial code, nothing disclosed", T, async () => {
    const { context, page, deviceKey } = await openApp(browser, world.url);
    await saveGrant(page, world.grant(deviceKey, [110101]));
    await scan(page);
    assert.equal(await page.getByTestId("error-code").textContent(), "not_resolvable");
    assert.equal(await page.getByTestId("disclosure-phone").textContent(), "");
    assert.equal(await page.getByTestId("disclosure-name").textContent(), "");
    assert.ok(!(await page.content()).includes(phone));
    await context.close();
  });

  test("3. another phone: refuses the copied grant, and the service refuses its signature", T, async () => {
    const first = await openApp(browser, world.url);
    const grant = world.grant(first.deviceKey);
    const second = await openApp(browser, world.url);
    assert.notEqual(second.deviceKey, first.deviceKey);
    // The app will not store a grant bound to another device, and says why.
    const status = await saveGrant(second.page, grant);
    assert.equal(await second.page.getByTestId("grant-status").getAttribute("data-state"), "refused");
    assert.match(status, /另一台设备/);
    assert.ok(status.includes(first.deviceKey.slice(4, 16)), status);
    // Sent anyway, signed by the app's own proof code with the second phone's
    // key (its non-extractable key, used from IndexedDB), the service refuses it.
    await second.page.evaluate(await bundleForPage());
    const answer = await second.page.evaluate(
      async ({ grant, token }) => {
        const { deviceKey, parseGrant, proveNow } = globalThis.courierForTest;
        const { privateKey } = await deviceKey();
        const proof = await proveNow(privateKey, parseGrant(grant).grantId, "delivery", [token]);
        const res = await fetch("/v1/resolve", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token, grant, purpose: "delivery", device_signature: proof }),
        });
        return { status: res.status, body: await res.json() };
      },
      { grant, token: world.token },
    );
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error.code, "device_signature_invalid");
    await first.context.close();
    await second.context.close();
  });

  test("4. replay: the app's captured request, sent again, is refused", T, async () => {
    const { context, page, deviceKey } = await openApp(browser, world.url);
    await saveGrant(page, world.grant(deviceKey));
    const sent = page.waitForRequest((r) => r.url().endsWith("/v1/resolve") && r.method() === "POST");
    await scan(page);
    assert.equal(await page.getByTestId("disclosure-phone").textContent(), phone);
    const body = (await sent).postData();
    assert.match(JSON.parse(body).device_signature, /^WR1:[0-9a-f]{176}$/);
    const res = await fetch(`${world.url}/v1/resolve`, { method: "POST", headers: { "content-type": "application/json" }, body });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "request_replayed");
    await context.close();
  });

  test("5. nothing kept: after a resolve and a page hide, no storage holds the recipient", T, async () => {
    const { context, page, deviceKey } = await openApp(browser, world.url);
    await saveGrant(page, world.grant(deviceKey));
    // The service worker is active, so its cache is filled and checked too.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await page.waitForSelector('[data-testid="grant-status"][data-state="ok"]');
    await scan(page);
    assert.equal(await page.getByTestId("disclosure-phone").textContent(), phone);
    assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), "a service worker controls the page");

    // Hide the page. Headless chromium keeps every page visible (bringing
    // another tab to the front or minimising the window changes nothing), so
    // do what the browser does when the phone locks or switches apps: the
    // document becomes hidden and `visibilitychange` fires.
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    assert.equal(await page.getByTestId("disclosure-phone").textContent(), "");
    assert.equal(await page.getByTestId("disclosure-name").textContent(), "");
    assert.equal(await page.getByTestId("disclosure-address").textContent(), "");
    assert.ok(!(await page.content()).includes(phone), "the page still shows the phone");

    const stored = await page.evaluate(async () => {
      const out = [];
      for (let i = 0; i < localStorage.length; i++) {
        const k = localStorage.key(i);
        out.push(`localStorage ${k}=${localStorage.getItem(k)}`);
      }
      for (let i = 0; i < sessionStorage.length; i++) {
        const k = sessionStorage.key(i);
        out.push(`sessionStorage ${k}=${sessionStorage.getItem(k)}`);
      }
      const show = (v) =>
        JSON.stringify(v, (_, x) => (x instanceof CryptoKey ? `CryptoKey(${x.type})` : x));
      for (const info of await indexedDB.databases()) {
        const db = await new Promise((ok, err) => {
          const r = indexedDB.open(info.name);
          r.onsuccess = () => ok(r.result);
          r.onerror = () => err(r.error);
        });
        for (const storeName of db.objectStoreNames) {
          const all = await new Promise((ok) => {
            const tx = db.transaction(storeName);
            const keys = tx.objectStore(storeName).getAllKeys();
            const values = tx.objectStore(storeName).getAll();
            tx.oncomplete = () => ok({ keys: keys.result, values: values.result });
          });
          out.push(`indexedDB ${info.name}/${storeName} ${show(all.keys)} ${show(all.values)}`);
        }
        db.close();
      }
      // Cache Storage is shared with the service worker: this is its cache.
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const req of await cache.keys()) {
          // A cached body is the shell file as served, or it is reported whole.
          const cached = await (await cache.match(req)).text();
          const served = await (await fetch(req.url, { cache: "no-store" })).text();
          out.push(`cache ${name} ${req.url} ${cached === served ? "(the served file)" : cached}`);
        }
      }
      return out;
    });
    const all = stored.join("\n");
    assert.ok(stored.some((s) => s.startsWith("cache ")), "the service worker cached the shell");
    assert.ok(stored.some((s) => s.startsWith("indexedDB ")), "the device key and grant are stored");
    const cachedUrls = stored.filter((s) => s.startsWith("cache ")).map((s) => new URL(s.split(" ")[2]).pathname);
    assert.ok(cachedUrls.includes("/app/app.js"), cachedUrls.join());
    assert.ok(!cachedUrls.some((u) => !u.startsWith("/app/")), `cached beyond the shell: ${cachedUrls}`);
    const digits = phone.replace(/\D/g, "");
    for (const secret of [digits, digits.slice(3, 9), digits.slice(-4), name, ...name.slice(1)]) {
      assert.ok(!all.includes(secret), `storage holds ${JSON.stringify(secret)}`);
    }
    assert.ok(!all.includes(world.token), "storage holds the token");
    await context.close();
  });

  test("6. headers: CSP, no-store, referrer, permissions, nosniff", T, async () => {
    // Any CSP violation while the app loads and runs is recorded.
    const init = () => {
      window.__violations = [];
      document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));
    };
    const { context, page, response, deviceKey } = await openApp(browser, world.url, {}, init);
    const expectSecurity = (h, what) => {
      assert.equal(h["content-security-policy"].split(";")[0], "default-src 'self'", what);
      assert.ok(!h["content-security-policy"].includes("unsafe-inline"), what);
      assert.equal(h["referrer-policy"], "no-referrer", what);
      assert.equal(h["permissions-policy"], "camera=(self)", what);
      assert.equal(h["x-content-type-options"], "nosniff", what);
    };
    expectSecurity(await response.allHeaders(), "/app/");
    await saveGrant(page, world.grant(deviceKey));
    const answered = page.waitForResponse((r) => r.url().endsWith("/v1/resolve"));
    await scan(page);
    const api = await (await answered).allHeaders();
    expectSecurity(api, "/v1/resolve");
    assert.equal(api["cache-control"], "no-store");
    // A denial and another API route carry them too.
    for (const [path, init] of [
      ["/v1/resolve", { method: "POST", body: "{}" }],
      ["/v1/resolve/batch", { method: "POST", body: "{}" }],
      ["/healthz", {}],
    ]) {
      const h = Object.fromEntries((await fetch(world.url + path, init)).headers);
      expectSecurity(h, path);
      assert.equal(h["cache-control"], "no-store", path);
    }
    // The app ran under its CSP without a single violation.
    assert.deepEqual(await page.evaluate(() => window.__violations), []);
    await context.close();
  });

  test("route mode: several scans, one batch under one proof", T, async () => {
    const { context, page, deviceKey } = await openApp(browser, world.url);
    await saveGrant(page, world.grant(deviceKey));
    await page.getByTestId("purpose").selectOption("return");
    await page.locator("#route-mode").check();
    await page.getByTestId("scan-start").click();
    await page.waitForSelector("#queue:not([hidden])");
    const sent = page.waitForRequest((r) => r.url().endsWith("/v1/resolve/batch"));
    await page.locator("#resolve-all").click();
    const body = JSON.parse((await sent).postData());
    assert.deepEqual(body.tokens, [world.token]);
    assert.equal(body.purpose, "return");
    assert.match(body.device_signature, /^WR1:[0-9a-f]{176}$/);
    await page.waitForSelector("#disclosure:not([hidden])");
    assert.equal(await page.getByTestId("disclosure-phone").textContent(), phone);
    await context.close();
  });

  test("enrollment by camera: the grant's QR code from `grant --qr`", T, async () => {
    // A browser of its own, whose camera shows the grant once it is issued,
    // then a label: chromium opens the video file each time a scan starts.
    const video = join(world.dir, "grant.y4m");
    const own = await launch(video);
    try {
      const { page, deviceKey } = await openApp(own, world.url);
      const png = join(world.dir, "grant.png");
      const text = world.grant(deviceKey, [WAYBILL.zone], png);
      const img = decodeGrayPng(readFileSync(png));
      const qr = findQr(img);
      assert.equal(qr.text, text);
      cameraVideo(img, qr, video);
      await page.locator("#grant-scan").click();
      await page.waitForSelector('[data-testid="grant-status"][data-state="ok"]');
      assert.match(await page.getByTestId("grant-status").textContent(), /C-10023/);
      // Then the camera turns to a label.
      const label = decodeGrayPng(readFileSync(world.labelPath));
      cameraVideo(label, findQr(label), video);
      await scan(page);
      assert.equal(await page.getByTestId("disclosure-phone").textContent(), phone);
    } finally {
      await own.close();
    }
  });

  test("7. the device key is non-extractable", T, async () => {
    const { context, page } = await openApp(browser, world.url);
    await page.evaluate(await bundleForPage());
    const result = await page.evaluate(async () => {
      // The key the app made and stored, through the app's own storage code.
      const { privateKey } = await globalThis.courierForTest.deviceKey();
      const tries = [];
      for (const format of ["pkcs8", "jwk", "raw"]) {
        try {
          await crypto.subtle.exportKey(format, privateKey);
          tries.push(`${format}: exported`);
        } catch (e) {
          tries.push(`${format}: ${e.name}`);
        }
      }
      return { algorithm: privateKey.algorithm.name, extractable: privateKey.extractable, tries };
    });
    assert.equal(result.algorithm, "Ed25519");
    assert.equal(result.extractable, false);
    for (const t of result.tries) {
      assert.ok(!t.endsWith("exported"), t);
    }
    await context.close();
  });
});
