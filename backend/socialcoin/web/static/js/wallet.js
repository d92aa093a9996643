// The wallet on every page: installs the service worker (which keeps the app and the last home page for
// use without a network) and shows the offline notice the page carries, with the time the page was made,
// when there is no network. Texts come from the page itself.
"use strict";

(function () {
  const notice = document.getElementById("offline-notice");

  function showOffline(offline) {
    if (notice) notice.hidden = !offline;
  }

  // Is the service reachable? navigator.onLine only knows whether there is a network at all.
  async function reachable() {
    try {
      const answer = await fetch("/portemonnee/sw.js", { cache: "no-store" });
      return answer.ok;
    } catch (_error) {
      return false;
    }
  }

  async function check() {
    if (!navigator.onLine) {
      showOffline(true);
      return;
    }
    showOffline(!(await reachable()));
  }

  window.addEventListener("offline", () => showOffline(true));
  window.addEventListener("online", check);
  check();

  // Signing out first forgets the kept home page (a navigation to /uitloggen is outside the worker's
  // scope, so only the page can do it): a shared phone keeps no one's balances.
  for (const form of document.querySelectorAll('form[action="/uitloggen"]')) {
    form.addEventListener("submit", (event) => {
      if (!("caches" in window)) return;
      event.preventDefault();
      caches.delete("wallet-pages-v1").finally(() => form.submit());
    });
  }

  // Marks the page once the worker runs and keeps a home page: the wallet now opens without a network.
  async function markReady() {
    await navigator.serviceWorker.ready;
    if (await caches.match("/portemonnee", { cacheName: "wallet-pages-v1" })) {
      document.documentElement.dataset.offlineReady = "true";
    }
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker
      .register("/portemonnee/sw.js", { scope: "/portemonnee" })
      .then(markReady)
      .catch(() => {
        // Without a service worker the wallet works as before, only not offline.
      });
  }
})();
