// Scan and resolve: the camera (or a photo) gives a token; the app signs the
// request with the device key and asks the resolver. In route mode it
// collects tokens and asks once, in a batch under one proof.

import { resolveBatch, resolveOne, type Outcome } from "../api";
import { t } from "../i18n";
import { MAX_TOKENS, PURPOSES, proveNow, type Purpose } from "../proof";
import { CameraScan, decodePhoto } from "../scanner";
import { byId, state } from "../state";
import { showMessage, showOutcomes } from "./disclosure";

const route: string[] = [];
let scan: CameraScan | null = null;
let busy = false;

function purpose(): Purpose {
  const v = byId<HTMLSelectElement>("purpose").value;
  return (PURPOSES as readonly string[]).includes(v) ? (v as Purpose) : "delivery";
}

function isToken(text: string): boolean {
  // Any generation (WB2:, WB3:, …): the resolver says which it opens.
  return /^WB[0-9]+:/.test(text.trim());
}

/** Resolves one scanned token, or a route's tokens as one batch. */
async function lookUp(tokens: string[], batch: boolean): Promise<void> {
  const grant = state.grant;
  const device = state.device;
  if (!grant || !device) {
    showMessage(t("scan.need-grant"));
    return;
  }
  busy = true;
  showMessage(t("scan.working"));
  try {
    const p = purpose();
    const proof = grant.info.version === 2 ? await proveNow(device.privateKey, grant.info.grantId, p, tokens) : null;
    let outcomes: Outcome[];
    const [only] = tokens;
    if (!batch && only !== undefined && tokens.length === 1) {
      outcomes = [await resolveOne(only, grant.text, p, proof)];
    } else {
      outcomes = await resolveBatch(tokens, grant.text, p, proof);
    }
    showMessage("");
    showOutcomes(outcomes);
  } finally {
    busy = false;
  }
}

function updateQueue(): void {
  byId("queue").hidden = route.length === 0;
  byId("queue-count").textContent = t("scan.queue", { n: route.length });
}

/** A decoded text: a token goes to the lookup (or the route's queue). */
function onScanned(text: string): boolean {
  if (!isToken(text)) {
    showMessage(t("scan.not-token"));
    return false;
  }
  const token = text.trim();
  if (byId<HTMLInputElement>("route-mode").checked) {
    if (!route.includes(token) && route.length < MAX_TOKENS) {
      route.push(token);
      updateQueue();
    }
    return false; // keep scanning the next parcel
  }
  if (busy) {
    return false;
  }
  performance.mark("qr-decoded");
  stopCamera();
  void lookUp([token], false);
  return true;
}

function stopCamera(): void {
  scan?.stop();
  scan = null;
  byId("video").hidden = true;
  byId("scan-start").textContent = t("scan.start");
}

/** Wires the scan screen. */
export function initScan(): void {
  byId("scan-start").addEventListener("click", () => {
    if (scan) {
      stopCamera();
      return;
    }
    const video = byId<HTMLVideoElement>("video");
    video.hidden = false;
    byId("scan-start").textContent = t("scan.stop");
    showMessage("");
    performance.mark("scan-start");
    scan = new CameraScan(video, onScanned);
    scan.start().catch(() => {
      stopCamera();
      showMessage(t("scan.camera-failed"));
    });
  });
  byId<HTMLInputElement>("photo-input").addEventListener("change", (ev) => {
    const input = ev.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = "";
    if (!file) {
      return;
    }
    void decodePhoto(file).then((text) => {
      if (text === null) {
        showMessage(t("scan.no-qr"));
      } else {
        onScanned(text);
      }
    });
  });
  byId("resolve-all").addEventListener("click", () => {
    if (route.length === 0 || busy) {
      return;
    }
    const tokens = route.splice(0, route.length);
    updateQueue();
    stopCamera();
    void lookUp(tokens, true);
  });
  byId("route-mode").addEventListener("change", updateQueue);
}

/** Stops the camera when the page is hidden, and drops a route's tokens. */
export function pauseScan(): void {
  stopCamera();
  route.length = 0;
  updateQueue();
}
