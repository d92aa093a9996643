// The wallet's service worker (served as /portemonnee/sw.js, scope /portemonnee). It keeps:
// - the app shell (styles, script, icons, manifest), served from the cache and refreshed behind it;
// - the last home page the resident loaded, so that the wallet opens without a network and shows the
//   balances of that moment (the page says when it was made; its script shows that it is offline).
// Pages are always asked from the network first. A home page that sends to the sign-in page (the session
// ended) removes the kept home page, as signing out does (wallet.js): a shared phone keeps no one's
// balances.
"use strict";

const VERSION = "v1";
const SHELL = "wallet-shell-" + VERSION;
const PAGES = "wallet-pages-" + VERSION;
const HOME = "/portemonnee";
const SHELL_FILES = [
  "/static/css/socialcoin.css",
  "/static/css/wallet.css",
  "/static/js/wallet.js",
  "/static/js/wallet-tasks.js",
  "/static/img/wallet-icon.svg",
  "/static/img/wallet-icon-192.png",
  "/portemonnee/manifest.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL);
    await shell.addAll(SHELL_FILES);
    try {
      await keepHome(await fetch(HOME, { credentials: "same-origin", redirect: "manual" }));
    } catch (_error) {
      // No network just now: the next visit to the home page keeps it.
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== SHELL && name !== PAGES) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function forgetPages() {
  await caches.delete(PAGES);
}

// The home page as the network gave it: kept when it is the resident's page, forgotten when the
// service sends to the sign-in page instead (signed out, or the session ended).
async function keepHome(response) {
  if (response.type === "opaqueredirect" || response.redirected || response.status === 303) {
    await forgetPages();
  } else if (response.ok) {
    const pages = await caches.open(PAGES);
    await pages.put(HOME, response.clone());
  }
  return response;
}

async function page(request) {
  const url = new URL(request.url);
  try {
    const response = await fetch(request);
    if (url.pathname === HOME && url.search === "") await keepHome(response);
    return response;
  } catch (error) {
    const kept = await caches.match(HOME, { cacheName: PAGES });
    if (kept) return kept;
    throw error;
  }
}

async function shellFile(request) {
  const shell = await caches.open(SHELL);
  const kept = await shell.match(request, { ignoreSearch: true });
  const fresh = fetch(request)
    .then((response) => {
      if (response.ok) shell.put(request, response.clone());
      return response;
    })
    .catch(() => undefined);
  return kept || (await fresh) || Response.error();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") return;
  if (request.mode === "navigate" && (url.pathname === HOME || url.pathname.startsWith(HOME + "/"))) {
    event.respondWith(page(request));
  } else if (SHELL_FILES.includes(url.pathname)) {
    event.respondWith(shellFile(request));
  }
});
