// The browser tests' world: the real CLI and resolver service (SQLite, on
// 127.0.0.1, throwaway ring and issuer), a label our renderer drew, a fake
// camera video of it, and Debian's chromium driven by playwright-core.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
import jsQR from "jsqr";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, "..", "..", "..", "..");

/** The CLI binary: `WAYBILL_REDACT_BIN`, else the debug build. */
export const BIN = process.env.WAYBILL_REDACT_BIN ?? join(repo, "target", "debug", "waybill-redact");

/** The recipient of the test label (fixtures/waybills.json's first record). */
export const WAYBILL = JSON.parse(readFileSync(join(repo, "fixtures", "waybills.json"), "utf8"))[0];

export function cli(args, opts = {}) {
  return execFileSync(BIN, args, { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"], ...opts }).trim();
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- PNG (8-bit gray, as `render --format png-gray` writes) and the fake camera

/** Decodes an 8-bit grayscale, non-interlaced PNG into { width, height, gray }. */
export function decodeGrayPng(bytes) {
  let at = 8;
  let width = 0;
  let height = 0;
  const idat = [];
  while (at < bytes.length) {
    const len = bytes.readUInt32BE(at);
    const type = bytes.toString("latin1", at + 4, at + 8);
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 0 || data[12] !== 0) {
        throw new Error("not an 8-bit gray PNG");
      }
    } else if (type === "IDAT") {
      idat.push(data);
    }
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const gray = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (width + 1)];
    const line = raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1));
    for (let x = 0; x < width; x++) {
      const a = x > 0 ? gray[y * width + x - 1] : 0;
      const b = y > 0 ? gray[(y - 1) * width + x] : 0;
      const c = x > 0 && y > 0 ? gray[(y - 1) * width + x - 1] : 0;
      let v = line[x];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      gray[y * width + x] = v & 0xff;
    }
  }
  return { width, height, gray };
}

/** Finds the label's QR code: its text and its bounding box. */
export function findQr(img) {
  const rgba = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0; i < img.gray.length; i++) {
    rgba.fill(img.gray[i], 4 * i, 4 * i + 3);
    rgba[4 * i + 3] = 255;
  }
  const code = jsQR(rgba, img.width, img.height);
  if (!code) {
    throw new Error("no QR code on the rendered label");
  }
  const l = code.location;
  const xs = [l.topLeftCorner.x, l.topRightCorner.x, l.bottomLeftCorner.x, l.bottomRightCorner.x];
  const ys = [l.topLeftCorner.y, l.topRightCorner.y, l.bottomLeftCorner.y, l.bottomRightCorner.y];
  return {
    text: code.data,
    cx: (Math.min(...xs) + Math.max(...xs)) / 2,
    cy: (Math.min(...ys) + Math.max(...ys)) / 2,
    side: Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)),
  };
}

/**
 * A 1280×720 camera frame of the label as a courier aims the phone: the QR
 * code fills half the frame's height, with the label around it (bilinear
 * scaling, a little gray on white as a photo has), as a Y4M file of `frames`.
 */
export function cameraVideo(img, qr, path, frames = 2) {
  const W = 1280;
  const H = 720;
  const scale = qr.side / (H / 2); // label pixels per frame pixel
  const Y = Buffer.alloc(W * H);
  const at = (x, y) =>
    x < 0 || y < 0 || x >= img.width || y >= img.height ? 255 : img.gray[y * img.width + x];
  for (let fy = 0; fy < H; fy++) {
    for (let fx = 0; fx < W; fx++) {
      const x = qr.cx + (fx - W / 2) * scale;
      const y = qr.cy + (fy - H / 2) * scale;
      const x0 = Math.floor(x), y0 = Math.floor(y), dx = x - x0, dy = y - y0;
      const v =
        at(x0, y0) * (1 - dx) * (1 - dy) + at(x0 + 1, y0) * dx * (1 - dy) +
        at(x0, y0 + 1) * (1 - dx) * dy + at(x0 + 1, y0 + 1) * dx * dy;
      Y[fy * W + fx] = Math.round(40 + (v * (225 - 40)) / 255);
    }
  }
  const chroma = Buffer.alloc((W / 2) * (H / 2), 128);
  const parts = [Buffer.from(`YUV4MPEG2 W${W} H${H} F30:1 Ip A1:1 C420jpeg\n`)];
  for (let i = 0; i < frames; i++) {
    parts.push(Buffer.from("FRAME\n"), Y, chroma, chroma);
  }
  writeFileSync(path, Buffer.concat(parts));
}

// ---- the service

/** Keys, a label, its video and the running service; `stop()` ends it all. */
export async function startWorld() {
  const dir = mkdtempSync(join(tmpdir(), "courier-web-"));
  const p = (name) => join(dir, name);
  cli(["keys", "new", "--out", p("ring.json")]);
  const issuerPublic = cli(["issuer", "new", "--out", p("issuer.json")]).split(/\s+/).find((w) => w.startsWith("WI1:"));
  writeFileSync(p("waybill.json"), JSON.stringify([WAYBILL]));
  cli(["render", "--ring", p("ring.json"), "--input", p("waybill.json"), "--out", p("labels"), "--format", "png-gray"]);
  const png = readdirSync(p("labels")).find((f) => f.endsWith(".png"));
  const labelPath = join(p("labels"), png);
  const label = decodeGrayPng(readFileSync(labelPath));
  const qr = findQr(label);
  cameraVideo(label, qr, p("camera.y4m"));

  // The audit key is made explicitly: the service never makes one beside its store.
  cli(["audit", "key-new", "--out", p("audit-key.json")]);
  const port = await freePort();
  const adminPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = spawn(
    BIN,
    ["serve", "--ring", p("ring.json"), "--trust", issuerPublic, "--store", `sqlite:${p("resolver.db")}`,
      "--listen", `127.0.0.1:${port}`, "--instance", "web-test", "--audit-key", p("audit-key.json"),
      "--admin-listen", `127.0.0.1:${adminPort}`],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  service.stderr.on("data", (d) => (log += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > deadline || service.exitCode !== null) {
      service.kill();
      throw new Error(`the service did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    dir,
    url,
    token: qr.text,
    labelPath,
    video: p("camera.y4m"),
    /** A grant from the CLI for `deviceKey` (`WD1:…`) and `zones`; with `qr`, also `--qr qr`. */
    grant(deviceKey, zones = [WAYBILL.zone], qr = null) {
      const args = ["grant", "--issuer", p("issuer.json"), "--courier", "C-10023", "--zones", zones.join(","), "--device-key", deviceKey];
      return cli(qr ? [...args, "--qr", qr] : args);
    },
    cli: (args) => cli(args, { cwd: dir }),
    async stop() {
      service.kill("SIGTERM");
      await new Promise((r) => (service.exitCode !== null ? r() : service.on("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- the browser

/** Debian's chromium, a fresh profile, a fake camera showing `video`. */
export async function launch(video) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
}

/** A new context (its own storage, so its own device key) with the camera allowed. */
export async function openApp(browser, url, { clock = false, ...options } = {}, init = null) {
  const context = await browser.newContext({ locale: "zh-CN", ...options });
  if (clock) {
    // The page's timers under the test's control; time still flows.
    await context.clock.install();
  }
  if (init) {
    await context.addInitScript(init);
  }
  await context.grantPermissions(["camera"], { origin: url });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const response = await page.goto(`${url}/app/`);
  const key = page.getByTestId("device-key");
  await page.waitForFunction(() => document.querySelector('[data-testid="device-key"]')?.textContent?.startsWith("WD1:"));
  return { context, page, response, deviceKey: (await key.textContent()).trim() };
}

/** Pastes and saves a grant; returns the grant status text. */
export async function saveGrant(page, grant) {
  await page.getByTestId("grant-input").fill(grant);
  await page.getByTestId("grant-save").click();
  await page.waitForSelector('[data-testid="grant-status"]:is([data-state="ok"], [data-state="refused"])');
  return (await page.getByTestId("grant-status").textContent()).trim();
}

/** The app's grant, proof and storage modules as a script defining `courierForTest`, for page.evaluate. */
export async function bundleForPage() {
  const out = await esbuild.build({
    stdin: {
      contents: [
        'export { parseGrant } from "./src/grant.ts";',
        'export { proveNow } from "./src/proof.ts";',
        'export { deviceKey } from "./src/storage.ts";',
      ].join("\n"),
      resolveDir: join(here, "..", ".."),
      loader: "ts",
    },
    bundle: true,
    format: "iife",
    globalName: "courierForTest",
    write: false,
    logLevel: "error",
  });
  return out.outputFiles[0].text;
}
