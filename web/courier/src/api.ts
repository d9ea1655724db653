// The resolver's API (crates/service/openapi.json): one token, or a batch
// under one proof. Answers live only in memory.

import type { Purpose } from "./proof";

/** A disclosure, as the service sends it. */
export interface Disclosure {
  tracking_number: string;
  zone: number;
  name?: string;
  phone?: string;
  address?: string;
}

export type Outcome = { ok: true; disclosure: Disclosure } | { ok: false; code: string };

interface ErrorBody {
  error?: { code?: unknown };
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
}

function errorCode(body: ErrorBody | null): string {
  const code = body?.error?.code;
  return typeof code === "string" ? code : "network";
}

/** `POST /v1/resolve`. */
export async function resolveOne(token: string, grant: string, purpose: Purpose, proof: string | null): Promise<Outcome> {
  let res: Response;
  try {
    res = await post("../v1/resolve", { token, grant, purpose, ...(proof ? { device_signature: proof } : {}) });
  } catch {
    return { ok: false, code: "network" };
  }
  const body = (await res.json().catch(() => null)) as (Disclosure & ErrorBody) | null;
  if (res.ok && body) {
    return { ok: true, disclosure: body };
  }
  return { ok: false, code: errorCode(body) };
}

/** `POST /v1/resolve/batch`: one outcome per token, in order. */
export async function resolveBatch(
  tokens: readonly string[],
  grant: string,
  purpose: Purpose,
  proof: string | null,
): Promise<Outcome[]> {
  let res: Response;
  try {
    res = await post("../v1/resolve/batch", { tokens, grant, purpose, ...(proof ? { device_signature: proof } : {}) });
  } catch {
    return tokens.map(() => ({ ok: false, code: "network" }));
  }
  type Item = { status?: number; disclosure?: Disclosure } & ErrorBody;
  const body = (await res.json().catch(() => null)) as ({ results?: Item[] } & ErrorBody) | null;
  if (!res.ok || !body?.results) {
    const code = errorCode(body);
    return tokens.map(() => ({ ok: false, code }));
  }
  return tokens.map((_, i) => {
    const item = body.results?.[i];
    return item?.disclosure ? { ok: true, disclosure: item.disclosure } : { ok: false, code: errorCode(item ?? null) };
  });
}
