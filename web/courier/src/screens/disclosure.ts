// The disclosure, large, and the denial, in words. A disclosure lives only in
// these elements and this module's memory: it is cleared when the page is
// hidden, when the courier clears it, and after CLEAR_AFTER_MS.

import type { Disclosure, Outcome } from "../api";
import { denial, t } from "../i18n";
import { byId } from "../state";

/** How long a disclosure stays on screen. */
export const CLEAR_AFTER_MS = 60_000;

let timer: ReturnType<typeof setTimeout> | undefined;
let countdown: ReturnType<typeof setInterval> | undefined;

function setField(id: string, value: string | undefined): void {
  byId(id).textContent = value ?? "—";
}

/** Removes every disclosed value from the page. */
export function clearDisclosure(): void {
  clearTimeout(timer);
  clearInterval(countdown);
  for (const id of ["disclosure-name", "disclosure-address", "disclosure-tracking", "disclosure-timer"]) {
    byId(id).textContent = "";
  }
  const phone = byId<HTMLAnchorElement>("disclosure-phone");
  phone.textContent = "";
  phone.removeAttribute("href");
  byId("disclosure-more").replaceChildren();
  byId("disclosure").hidden = true;
}

function showDenialCode(code: string): void {
  byId("error-code").textContent = code;
  byId("denial-text").textContent = denial(code);
  byId("denial").hidden = false;
}

function showOne(d: Disclosure): void {
  byId("disclosure-tracking").textContent = d.tracking_number;
  setField("disclosure-name", d.name);
  setField("disclosure-address", d.address);
  const phone = byId<HTMLAnchorElement>("disclosure-phone");
  phone.textContent = d.phone ?? "—";
  if (d.phone) {
    phone.href = "tel:" + d.phone.replace(/[^0-9+,#*]/g, "");
  } else {
    phone.removeAttribute("href");
  }
}

function startClock(): void {
  const until = Date.now() + CLEAR_AFTER_MS;
  const tick = (): void => {
    byId("disclosure-timer").textContent = t("disc.cleared", { s: Math.max(0, Math.ceil((until - Date.now()) / 1000)) });
  };
  tick();
  countdown = setInterval(tick, 1000);
  timer = setTimeout(clearDisclosure, CLEAR_AFTER_MS);
}

/** Shows the outcomes of one lookup (one token, or a route's batch). */
export function showOutcomes(outcomes: Outcome[]): void {
  clearDisclosure();
  byId("denial").hidden = true;
  byId("error-code").textContent = "";
  const allowed = outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok);
  const denied = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
  const first = allowed[0];
  if (first) {
    showOne(first.disclosure);
    // A route's other parcels, one line each, under the first.
    const more = byId("disclosure-more");
    for (const o of allowed.slice(1)) {
      const li = document.createElement("li");
      const d = o.disclosure;
      li.append(`${d.tracking_number} · ${d.name ?? "—"} · `);
      const a = document.createElement("a");
      a.textContent = d.phone ?? "—";
      if (d.phone) {
        a.href = "tel:" + d.phone.replace(/[^0-9+,#*]/g, "");
      }
      li.append(a, ` · ${d.address ?? "—"}`);
      more.append(li);
    }
    byId("disclosure").hidden = false;
    byId("result").scrollIntoView({ block: "start" });
    startClock();
    performance.mark("disclosure-shown");
  }
  const firstDenied = denied[0];
  if (firstDenied) {
    showDenialCode(firstDenied.code);
    if (!first) {
      byId("result").scrollIntoView({ block: "start" });
    }
  }
}

/** Shows an app-side refusal (no grant, a photo without a QR code). */
export function showMessage(text: string): void {
  byId("scan-message").textContent = text;
}

/** Clears the disclosure whenever the page is hidden. */
export function initDisclosure(): void {
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      clearDisclosure();
    }
  });
  window.addEventListener("pagehide", clearDisclosure);
  byId("disclosure-clear").addEventListener("click", clearDisclosure);
}
