"use strict";
// A spend's status page: while it is on its way, asks every second where it stands and shows the answer
// (the server renders the box, in the page's language), without reloading the page.
(() => {
  const box = document.getElementById("spend-status");
  if (!box || box.dataset.state !== "pending") return;
  const ask = async () => {
    try {
      const answer = await fetch(box.dataset.url, { headers: { Accept: "application/json" } });
      if (answer.ok) {
        const found = await answer.json();
        if (found.state !== "pending") {
          box.innerHTML = found.html;
          box.dataset.state = found.state;
          return;
        }
      }
    } catch (_) { /* offline for a moment: ask again */ }
    setTimeout(ask, 1000);
  };
  setTimeout(ask, 1000);
})();
