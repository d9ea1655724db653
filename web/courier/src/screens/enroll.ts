// Enrollment: the device key (made once, shown as WD1: text and QR code) and
// the grant (pasted or scanned, checked against this device's key, stored).

import { GrantFormatError, parseGrant, type GrantInfo } from "../grant";
import { dateTime, t } from "../i18n";
import { drawQr } from "../qrdraw";
import { CameraScan } from "../scanner";
import { byId, state } from "../state";
import { deviceKey, loadGrant, saveGrant } from "../storage";

/** Why a grant cannot be used on this device, or `null` when it can. */
export function refusal(info: GrantInfo, myKeyHex: string, nowSeconds: number): string | null {
  if (info.deviceKey !== null && info.deviceKey !== myKeyHex) {
    return t("grant.other-device", { key: info.deviceKey.slice(0, 12), mine: myKeyHex.slice(0, 12) });
  }
  if (info.expiresAt <= nowSeconds) {
    return t("grant.expired", { expiry: dateTime(info.expiresAt) });
  }
  return null;
}

/** The status line; `data-state` (none, ok, refused) lets tests wait on it. */
function showStatus(text: string, state: "none" | "ok" | "refused"): void {
  const el = byId("grant-status");
  el.textContent = text;
  el.dataset["state"] = state;
  el.classList.toggle("bad", state === "refused");
}

function describe(info: GrantInfo): string {
  return (
    t("grant.ok", {
      courier: info.courierId,
      expiry: dateTime(info.expiresAt),
      zones: info.zones.join(", "),
      quota: info.quota,
    }) + (info.version === 1 ? t("grant.bearer") : "")
  );
}

/** Checks a grant's text and, when this device may use it, stores it. */
async function acceptGrant(text: string, onReady: () => void): Promise<void> {
  const device = state.device;
  if (!device) {
    return;
  }
  let info: GrantInfo;
  try {
    info = parseGrant(text);
  } catch (e) {
    if (e instanceof GrantFormatError) {
      showStatus(t("grant.bad"), "refused");
      return;
    }
    throw e;
  }
  const why = refusal(info, device.publicHex, Date.now() / 1000);
  if (why !== null) {
    showStatus(why, "refused");
    return;
  }
  await saveGrant(text.trim());
  state.grant = { text: text.trim(), info };
  byId<HTMLTextAreaElement>("grant-input").value = "";
  showStatus(describe(info), "ok");
  onReady();
}

/** Makes or loads the device key and the stored grant; wires the enrollment screen. */
export async function initEnroll(onReady: () => void): Promise<void> {
  const keyEl = byId("device-key");
  keyEl.textContent = t("device.making");
  try {
    state.device = await deviceKey();
  } catch {
    keyEl.textContent = t("device.unsupported");
    return;
  }
  const wd1 = "WD1:" + state.device.publicHex;
  keyEl.textContent = wd1;
  drawQr(byId<HTMLCanvasElement>("device-qr"), wd1);

  byId("grant-save").addEventListener("click", () => {
    void acceptGrant(byId<HTMLTextAreaElement>("grant-input").value, onReady);
  });
  let scan: CameraScan | null = null;
  byId("grant-scan").addEventListener("click", () => {
    scan?.stop();
    const video = byId<HTMLVideoElement>("video");
    video.hidden = false;
    scan = new CameraScan(video, (text) => {
      if (!text.startsWith("WG")) {
        return false;
      }
      video.hidden = true;
      void acceptGrant(text, onReady);
      return true;
    });
    scan.start().catch(() => {
      video.hidden = true;
      showStatus(t("scan.camera-failed"), "refused");
    });
  });

  const stored = await loadGrant();
  if (stored) {
    await acceptGrant(stored, onReady);
  } else {
    showStatus(t("grant.none"), "none");
  }
}
