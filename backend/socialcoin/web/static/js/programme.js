// The programme's pages of the municipality portal. They work without this script; with it, a form is sent
// only once (a double click sends nothing twice), a refused form's list of problems gets the focus, and a
// claim being minted shows its new state by itself.
"use strict";

for (const form of document.querySelectorAll("form[data-submit-once]")) {
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "yes";
    // After the browser took the form's values: a disabled button's value would not be sent.
    setTimeout(() => {
      for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
    }, 0);
  });
}
// Coming back to a page from the browser's history: its forms can be sent again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("form[data-submit-once]")) {
    delete form.dataset.sent;
    for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = false;
  }
});

const summary = document.getElementById("error-summary");
if (summary) summary.focus();

// A part of the page whose state is changing (data-poll: the page to ask) is asked again every few
// seconds, and replaced, until it no longer changes.
const POLL_MS = 2000;
const POLL_TIMES = 90;
for (const region of document.querySelectorAll("[data-poll]")) {
  let times = 0;
  const ask = async () => {
    times += 1;
    try {
      const answer = await fetch(region.dataset.poll, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (answer.ok) {
        const page = new DOMParser().parseFromString(await answer.text(), "text/html");
        const fresh = page.getElementById(region.id);
        if (fresh) {
          region.replaceChildren(...Array.from(fresh.childNodes, (node) => document.importNode(node, true)));
          if (!fresh.hasAttribute("data-poll")) {
            region.removeAttribute("data-poll");
            return;
          }
        }
      }
    } catch (_) {
      // The network is away for a moment: ask again later.
    }
    if (times < POLL_TIMES) setTimeout(ask, POLL_MS);
  };
  setTimeout(ask, POLL_MS);
}
