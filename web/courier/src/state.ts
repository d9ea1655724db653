// What the screens share, in memory. Only the device key and the grant's
// text are also stored (storage.ts); a disclosure never leaves the disclosure screen.

import type { GrantInfo } from "./grant";
import type { DeviceKey } from "./storage";

export interface State {
  device: DeviceKey | null;
  grant: { text: string; info: GrantInfo } | null;
}

export const state: State = { device: null, grant: null };

/** The element with this id; the page's HTML is fixed, so a missing one is a bug. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) {
    throw new Error(`#${id} missing`);
  }
  return el as T;
}
