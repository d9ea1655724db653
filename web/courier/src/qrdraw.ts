// Draws a text as a QR code on a canvas (for the device's public key).

import qrcode from "qrcode-generator";

/** Draws `text` with `scale` pixels per module and a 4-module quiet zone. */
export function drawQr(canvas: HTMLCanvasElement, text: string, scale = 6): void {
  const qr = qrcode(0, "M");
  qr.addData(text, "Byte");
  qr.make();
  const n = qr.getModuleCount();
  const side = (n + 8) * scale;
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext("2d");
  if (!ctx) {
    return;
  }
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, side, side);
  ctx.fillStyle = "#000";
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.isDark(r, c)) {
        ctx.fillRect((c + 4) * scale, (r + 4) * scale, scale, scale);
      }
    }
  }
}
