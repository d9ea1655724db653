// The courier's app: enrollment, scan, disclosure. Served by the resolver at
// /app/; every file comes from it (CSP default-src 'self').

import { pickLang, setLang, t, currentLang } from "./i18n";
import { initDisclosure } from "./screens/disclosure";
import { initEnroll } from "./screens/enroll";
import { initScan, pauseScan } from "./screens/scan";
import { byId, state } from "./state";

function applyWords(): void {
  document.documentElement.lang = currentLang();
  document.title = t("title");
  for (const el of document.querySelectorAll<HTMLElement>("[data-i18n]")) {
    el.textContent = t(el.dataset["i18n"] ?? "");
  }
}

function showScreens(): void {
  const ready = state.grant !== null;
  byId("enroll").hidden = ready;
  byId("show-enroll").hidden = !ready;
  byId("scan").hidden = !ready;
}

async function main(): Promise<void> {
  setLang(pickLang(navigator.languages.length > 0 ? navigator.languages : [navigator.language]));
  applyWords();
  initDisclosure();
  initScan();
  byId("show-enroll").addEventListener("click", () => {
    byId("enroll").hidden = !byId("enroll").hidden;
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      pauseScan();
    }
  });
  showScreens();
  await initEnroll(showScreens);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => undefined);
  }
}

void main();
