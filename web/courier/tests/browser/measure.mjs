// Issue 21's figures, measured (not asserted): the first load's bytes over
// the wire (gzip), and the time from the first camera frame holding the QR
// code to the disclosure shown, median of 20 scans. Also writes the
// screenshots in docs/. Run: node tests/browser/measure.mjs [--screenshots]

import { join } from "node:path";
import { launch, openApp, repo, saveGrant, startWorld } from "./harness.mjs";

const world = await startWorld();
const browser = await launch(world.video);
const shots = process.argv.includes("--screenshots");
try {
  // First load: every response's encoded bytes, as chromium counts them.
  const context = await browser.newContext({ locale: "zh-CN", viewport: { width: 412, height: 860 } });
  await context.grantPermissions(["camera"], { origin: world.url });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  const sizes = new Map();
  const urls = new Map();
  cdp.on("Network.responseReceived", (e) => urls.set(e.requestId, `${e.response.url} ${e.response.headers["content-encoding"] ?? e.response.headers["Content-Encoding"] ?? "identity"}`));
  cdp.on("Network.loadingFinished", (e) => sizes.set(e.requestId, e.encodedDataLength));
  await page.goto(`${world.url}/app/`, { waitUntil: "networkidle" });
  await page.waitForFunction(() => document.querySelector('[data-testid="device-key"]')?.textContent?.startsWith("WD1:"));
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForTimeout(500);
  let total = 0;
  for (const [id, n] of sizes) {
    total += n;
    console.log(`  ${String(n).padStart(7)}  ${urls.get(id) ?? id}`);
  }
  console.log(`first load: ${total} bytes over the wire (${(total / 1024).toFixed(1)} KiB), ${sizes.size} responses`);

  const deviceKey = (await page.getByTestId("device-key").textContent()).trim();
  if (shots) {
    await page.screenshot({ path: join(repo, "docs", "courier-app-enroll.png") });
  }
  await saveGrant(page, world.grant(deviceKey));

  if (shots) {
    // The scan screen with the camera running (route mode keeps it open).
    await page.locator("#route-mode").check();
    await page.getByTestId("scan-start").click();
    await page.waitForSelector("#queue:not([hidden])");
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(repo, "docs", "courier-app-scan.png") });
    await page.getByTestId("scan-start").click();
    await page.locator("#route-mode").uncheck();
    await page.evaluate(() => document.getElementById("resolve-all")?.click());
  }

  const runs = [];
  for (let i = 0; i < 20; i++) {
    await page.evaluate(() => performance.clearMarks());
    await page.getByTestId("scan-start").click();
    await page.waitForFunction(() => performance.getEntriesByName("disclosure-shown").length > 0, null, { timeout: 20_000 });
    const m = await page.evaluate(() => {
      const at = (n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
      return { start: at("scan-start"), frame: at("camera-frame"), decoded: at("qr-decoded"), shown: at("disclosure-shown") };
    });
    runs.push(m);
    if (i === 0 && shots) {
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(repo, "docs", "courier-app-disclosure.png") });
    }
    await page.locator("#disclosure-clear").click();
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
  };
  const f = (x) => `${x.toFixed(0)} ms`;
  const frameToShown = runs.map((r) => r.shown - r.frame);
  console.log(`QR in frame → disclosure shown, 20 runs: median ${f(median(frameToShown))}, min ${f(Math.min(...frameToShown))}, max ${f(Math.max(...frameToShown))}`);
  console.log(`  of which decoding (first frame → QR decoded): median ${f(median(runs.map((r) => r.decoded - r.frame)))}`);
  console.log(`  of which sign + resolve + show (decoded → shown): median ${f(median(runs.map((r) => r.shown - r.decoded)))}`);
  console.log(`tap "scan" → disclosure shown (camera start included): median ${f(median(runs.map((r) => r.shown - r.start)))}`);
  await context.close();
} finally {
  await browser.close();
  await world.stop();
}
