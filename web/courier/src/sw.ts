// The service worker: it caches the app shell (these files only) so the app
// opens without a network, and passes everything else, the API above all,
// straight to the network, never into a cache.

/// <reference lib="webworker" />
export {};
declare const self: ServiceWorkerGlobalScope;

// Replaced at build time with a hash of the shell's files.
declare const SHELL_VERSION: string;
const CACHE = "courier-shell-" + SHELL_VERSION;
const SHELL = ["./", "app.js", "app.css", "manifest.webmanifest", "icon.svg", "icon-192.png", "icon-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  const scope = new URL(self.registration.scope);
  const inShell =
    req.method === "GET" &&
    url.origin === scope.origin &&
    SHELL.some((f) => new URL(f, scope).pathname === url.pathname);
  if (!inShell) {
    return; // the network, uncached: /v1/* and anything else
  }
  // Network first, so a new deployment shows at once; the cache when offline.
  event.respondWith(
    fetch(req).catch(() =>
      caches.match(req, { cacheName: CACHE }).then((hit) => hit ?? Response.error()),
    ),
  );
});
