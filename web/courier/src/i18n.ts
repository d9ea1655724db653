// The app's words: Chinese (zh-CN) unless the browser asks for English first.

export type Lang = "zh-CN" | "en";

/** The language: English when the browser's first choice is English, else zh-CN. */
export function pickLang(languages: readonly string[]): Lang {
  const first = (languages[0] ?? "zh-CN").toLowerCase();
  return first.startsWith("en") ? "en" : "zh-CN";
}

type Words = Record<string, string>;

const ZH: Words = {
  title: "快递员查件",
  "device.heading": "本机登记",
  "device.making": "正在生成本机密钥…",
  "device.explain": "请把下面的本机公钥（文字或二维码）交给网点，网点据此签发绑定本机的授权。",
  "device.unsupported": "此浏览器不支持 Ed25519 密钥，无法使用。请更新浏览器。",
  "grant.heading": "授权",
  "grant.paste": "粘贴授权文字（WG2:…）",
  "grant.save": "保存授权",
  "grant.scan": "扫描授权二维码",
  "grant.none": "尚未保存授权。",
  "grant.ok": "快递员 {courier} · 有效至 {expiry} · 片区 {zones} · 初始额度 {quota} 次",
  "grant.bearer": "（不绑定设备的授权）",
  "grant.expired": "此授权已过期（{expiry}）。请向网点申请新的授权。",
  "grant.bad": "这不是有效的授权文字，请重新复制或扫描。",
  "grant.other-device": "已拒绝：此授权绑定的是另一台设备的密钥（{key}…），不是本机（{mine}…）。请用本机公钥向网点重新申请授权。",
  "grant.show": "本机与授权",
  "scan.heading": "扫码查件",
  "scan.purpose": "用途",
  "purpose.delivery": "派送",
  "purpose.call": "联系收件人",
  "purpose.return": "退回",
  "purpose.after-sales": "售后",
  "scan.route": "路线模式（连续扫多件，一次查询）",
  "scan.start": "开始扫码",
  "scan.stop": "停止",
  "scan.photo": "拍照识别",
  "scan.queue": "已扫 {n} 件",
  "scan.resolve-all": "全部查询",
  "scan.no-qr": "照片里没有找到面单二维码，请靠近一些再拍。",
  "scan.camera-failed": "无法打开摄像头。请允许使用摄像头，或用「拍照识别」。",
  "scan.not-token": "这不是面单二维码。",
  "scan.need-grant": "请先保存授权。",
  "scan.working": "正在查询…",
  "disc.heading": "收件人",
  "disc.name": "姓名",
  "disc.phone": "电话",
  "disc.address": "地址",
  "disc.clear": "清除",
  "disc.cleared": "信息 {s} 秒后自动清除。",
  "error.heading": "未能查询",
};

const EN: Words = {
  title: "Courier lookup",
  "device.heading": "This device",
  "device.making": "Making this device's key…",
  "device.explain": "Give the station this device's public key below (text or QR code); it issues a grant bound to this device.",
  "device.unsupported": "This browser has no Ed25519 keys, so the app cannot work. Please update the browser.",
  "grant.heading": "Grant",
  "grant.paste": "Paste the grant text (WG2:…)",
  "grant.save": "Save grant",
  "grant.scan": "Scan a grant QR code",
  "grant.none": "No grant saved yet.",
  "grant.ok": "Courier {courier} · valid until {expiry} · zones {zones} · starting quota {quota}",
  "grant.bearer": " (not bound to a device)",
  "grant.expired": "This grant expired ({expiry}). Ask the station for a new one.",
  "grant.bad": "This is not a grant's text. Copy or scan it again.",
  "grant.other-device": "Refused: this grant is bound to another device's key ({key}…), not this one ({mine}…). Ask the station for a grant for this device's key.",
  "grant.show": "Device and grant",
  "scan.heading": "Scan a label",
  "scan.purpose": "Purpose",
  "purpose.delivery": "Delivery",
  "purpose.call": "Call the recipient",
  "purpose.return": "Return",
  "purpose.after-sales": "After-sales",
  "scan.route": "Route mode (scan several, look up at once)",
  "scan.start": "Start scanning",
  "scan.stop": "Stop",
  "scan.photo": "Take a photo",
  "scan.queue": "{n} scanned",
  "scan.resolve-all": "Look up all",
  "scan.no-qr": "No label QR code in the photo. Move closer and try again.",
  "scan.camera-failed": "The camera could not start. Allow camera access, or use “Take a photo”.",
  "scan.not-token": "This is not a label's QR code.",
  "scan.need-grant": "Save a grant first.",
  "scan.working": "Looking up…",
  "disc.heading": "Recipient",
  "disc.name": "Name",
  "disc.phone": "Phone",
  "disc.address": "Address",
  "disc.clear": "Clear",
  "disc.cleared": "Cleared automatically in {s} s.",
  "error.heading": "Not resolved",
};

// Every code the service answers with (docs/OPERATIONS.md, crates/service/src/api.rs)
// and every audit reason in docs/TOKEN.md, as what the courier should do.
const DENIAL_ZH: Words = {
  malformed_token: "二维码内容不完整。请重新扫描面单上的二维码。",
  malformed_grant: "授权文字已损坏。请在「本机与授权」中重新粘贴或扫描授权。",
  malformed_request: "请求格式有误。请刷新页面后重试。",
  untrusted_issuer: "此授权不是本公司签发的。请向网点申请授权。",
  bad_signature: "授权签名无效。请向网点重新申请授权。",
  grant_invalid: "此授权在这里无效（签发方不受信任、签名错误或有效期过长）。请向网点申请一班次的新授权。",
  bearer_grant_refused: "此授权未绑定设备，服务器不接受。请用本机公钥申请绑定本机的授权。",
  device_signature_missing: "此授权绑定了设备，请求必须由本机签名。请刷新页面后重试。",
  device_signature_required: "此授权绑定了设备，请求必须由本机签名。请刷新页面后重试。",
  device_signature_invalid: "本机签名与授权不符：授权绑定的是另一台设备。请用本机公钥申请授权。",
  request_stale: "手机时间与服务器相差太多。请把手机设为自动设置时间后重试。",
  request_replayed: "这个请求已经发送过。请重新扫码。",
  grant_not_yet_valid: "授权尚未生效。请等到授权开始时间再试。",
  grant_expired: "授权不在有效期内（已过期或尚未生效）。请向网点申请新的授权。",
  grant_too_long: "授权有效期过长，服务器不接受。请申请一个班次的授权。",
  grant_revoked: "此授权已被撤销。请联系网点。",
  parcel_revoked: "这件包裹无法查询。请联系网点。",
  unknown_sealer: "这件包裹无法查询。请联系网点。",
  sealer_revoked: "这件包裹无法查询。请联系网点。",
  zone_not_granted: "这件包裹不在你的授权片区内。请交给负责该片区的快递员或联系网点。",
  token_expired: "面单二维码已过期。请联系网点。",
  unopenable: "这件包裹无法查询。请联系网点。",
  issued_in_future: "这件包裹无法查询。请联系网点。",
  token_lifetime_too_long: "这件包裹的二维码有效期不合规，无法查询。请联系网点。",
  key_retired: "这张面单的密钥已停用，无法查询。请联系网点重新打印面单。",
  directory_expired: "这张面单由商家用过期的片区目录加密，无法查询。请联系网点。",
  not_resolvable: "这件包裹不能用你的授权查询（不在你的片区，或面单已过期、被撤销）。请联系网点。",
  rate_limited: "查询太频繁。请稍等一分钟再试。",
  quota_exceeded: "本授权的查询次数已用完。请向网点申请新的授权。",
  audit_unavailable: "服务器暂时无法记录查询，没有泄露任何信息。请稍后重试。",
  store_unavailable: "服务器暂时不可用，没有泄露任何信息。请稍后重试。",
  deadline_exceeded: "服务器响应超时，没有泄露任何信息。请稍后重试。",
  audit_unwitnessed: "服务器的查询记录暂时无法得到外部见证，没有泄露任何信息。请稍后重试。",
  body_too_large: "一次扫描的包裹太多。请分批查询。",
  unsupported_media_type: "请求格式不对。请刷新页面后重试。",
  not_found: "服务器上没有这个地址。请确认打开的是网点给的页面。",
  method_not_allowed: "请求格式不对。请刷新页面后重试。",
  directory_unavailable: "服务器暂时没有有效的片区目录。请稍后重试，仍不行请联系网点。",
  internal: "服务器出错，没有泄露任何信息。请稍后重试，仍不行请联系网点。",
  network: "无法连接服务器。请检查网络后重试。",
};

const DENIAL_EN: Words = {
  malformed_token: "The QR code was not read whole. Scan the label's QR code again.",
  malformed_grant: "The grant's text is damaged. Paste or scan the grant again under “Device and grant”.",
  malformed_request: "The request was malformed. Reload the page and try again.",
  untrusted_issuer: "This grant was not issued by this carrier. Ask the station for a grant.",
  bad_signature: "The grant's signature is not valid. Ask the station for a new grant.",
  grant_invalid: "This grant is not valid here (unknown issuer, bad signature, or valid for too long). Ask the station for a new shift grant.",
  bearer_grant_refused: "This grant is bound to no device and the server refuses it. Ask for a grant bound to this device's key.",
  device_signature_missing: "This grant is bound to a device: this device must sign the request. Reload the page and try again.",
  device_signature_required: "This grant is bound to a device: this device must sign the request. Reload the page and try again.",
  device_signature_invalid: "This device's signature does not match the grant: the grant is bound to another device. Ask for a grant for this device's key.",
  request_stale: "The phone's clock is too far off the server's. Set the phone to set its time automatically, then try again.",
  request_replayed: "This request was already sent. Scan again.",
  grant_not_yet_valid: "The grant is not valid yet. Try again once it starts.",
  grant_expired: "The grant is outside its validity window (expired or not yet valid). Ask the station for a new grant.",
  grant_too_long: "The grant is valid for too long and the server refuses it. Ask for a one-shift grant.",
  grant_revoked: "This grant was revoked. Contact the station.",
  parcel_revoked: "This parcel cannot be looked up. Contact the station.",
  unknown_sealer: "This parcel cannot be looked up. Contact the station.",
  sealer_revoked: "This parcel cannot be looked up. Contact the station.",
  zone_not_granted: "This parcel is outside your grant's zones. Hand it to that zone's courier or contact the station.",
  token_expired: "The label's QR code has expired. Contact the station.",
  unopenable: "This parcel cannot be looked up. Contact the station.",
  issued_in_future: "This parcel cannot be looked up. Contact the station.",
  token_lifetime_too_long: "This label's QR code is valid for longer than allowed and cannot be looked up. Contact the station.",
  key_retired: "This label was sealed under a retired key and cannot be looked up. Ask the station to reprint it.",
  directory_expired: "The seller sealed this label with an expired zone directory; it cannot be looked up. Contact the station.",
  not_resolvable: "Your grant cannot look up this parcel (outside your zones, or the label expired or was revoked). Contact the station.",
  rate_limited: "Too many lookups. Wait a minute and try again.",
  quota_exceeded: "This grant's lookups are used up. Ask the station for a new grant.",
  audit_unavailable: "The server cannot record lookups right now; nothing was disclosed. Try again later.",
  store_unavailable: "The server is unavailable right now; nothing was disclosed. Try again later.",
  deadline_exceeded: "The server took too long to answer; nothing was disclosed. Try again later.",
  audit_unwitnessed: "The server's lookup log is not witnessed right now; nothing was disclosed. Try again later.",
  body_too_large: "Too many parcels in one lookup. Look them up in smaller groups.",
  unsupported_media_type: "The request was malformed. Reload the page and try again.",
  not_found: "The server has no such address. Check that you opened the page the station gave you.",
  method_not_allowed: "The request was malformed. Reload the page and try again.",
  directory_unavailable: "The server has no valid zone directory right now. Try again later, and contact the station if it persists.",
  internal: "The server failed; nothing was disclosed. Try again later, and contact the station if it persists.",
  network: "The server cannot be reached. Check the connection and try again.",
};

/** Every denial code the app explains. */
export const DENIAL_CODES: readonly string[] = Object.keys(DENIAL_ZH);

let lang: Lang = "zh-CN";

export function setLang(l: Lang): void {
  lang = l;
}

export function currentLang(): Lang {
  return lang;
}

/** The text for `key`, with `{name}` placeholders filled. */
export function t(key: string, args: Record<string, string | number> = {}): string {
  const words = lang === "en" ? EN : ZH;
  const text = words[key] ?? ZH[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(args[k] ?? ""));
}

/** What the courier should do about a denial code. */
export function denial(code: string): string {
  const words = lang === "en" ? DENIAL_EN : DENIAL_ZH;
  return words[code] ?? (lang === "en" ? `Refused (${code}). Contact the station.` : `查询被拒绝（${code}）。请联系网点。`);
}

/** A date and time in the app's language. */
export function dateTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
}
