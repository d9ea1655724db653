// Reading QR codes in the page: the rear camera through getUserMedia, or a
// photo from the file input, decoded with jsQR (pure JavaScript, no network).

import jsQR from "jsqr";

/** The largest side a frame is decoded at: more pixels cost time, not reads. */
const MAX_SIDE = 1280;

function decodeFrom(source: CanvasImageSource, width: number, height: number, canvas: HTMLCanvasElement): string | null {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) {
    return null;
  }
  ctx.drawImage(source, 0, 0, w, h);
  const image = ctx.getImageData(0, 0, w, h);
  const code = jsQR(image.data, w, h, { inversionAttempts: "dontInvert" });
  // The pixels held a label: drop them now rather than at the next GC.
  ctx.clearRect(0, 0, w, h);
  return code ? code.data : null;
}

/** Decodes the first QR code in a photo file, or `null`. */
export async function decodePhoto(file: Blob): Promise<string | null> {
  const bitmap = await createImageBitmap(file);
  try {
    return decodeFrom(bitmap, bitmap.width, bitmap.height, document.createElement("canvas"));
  } finally {
    bitmap.close();
  }
}

/** A running camera scan. */
export class CameraScan {
  private stream: MediaStream | null = null;
  private stopped = false;
  private sawFrame = false;
  private readonly canvas = document.createElement("canvas");

  constructor(
    private readonly video: HTMLVideoElement,
    /** Called with each decoded text; return true to stop scanning. */
    private readonly onText: (text: string) => boolean,
  ) {}

  /** Opens the rear camera and decodes frames until stopped. */
  async start(): Promise<void> {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    if (this.stopped) {
      this.release();
      return;
    }
    this.video.srcObject = this.stream;
    this.video.muted = true;
    this.video.playsInline = true;
    await this.video.play();
    this.tick();
  }

  private tick(): void {
    if (this.stopped) {
      return;
    }
    const v = this.video;
    if (v.readyState >= v.HAVE_CURRENT_DATA && v.videoWidth > 0) {
      if (!this.sawFrame) {
        // The first frame the page sees: where "QR in the frame → disclosure" starts.
        this.sawFrame = true;
        performance.mark("camera-frame");
      }
      const text = decodeFrom(v, v.videoWidth, v.videoHeight, this.canvas);
      if (text !== null && this.onText(text)) {
        this.stop();
        return;
      }
    }
    // A timer, not requestAnimationFrame: decoding takes longer than a frame,
    // and the loop must yield to the page between frames.
    setTimeout(() => this.tick(), 30);
  }

  /** Stops the scan and the camera. */
  stop(): void {
    this.stopped = true;
    this.release();
  }

  private release(): void {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.video.srcObject = null;
  }
}
