// The municipality's portal: small comforts on top of pages that work without them. Every text comes
// from the page (data-* attributes rendered from the catalogue).
"use strict";

// A form that asks first (freeze, cancel, revoke): data-confirm holds the question.
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

// A code shown once: a button copies it (the button stays hidden without a clipboard).
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = button.dataset.copied;
  });
});

// The activation codes of an upload, as a CSV file for the letters (made here: the service keeps no copy).
document.querySelectorAll("button[data-download]").forEach((button) => {
  const table = document.getElementById(button.dataset.download);
  if (!table) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const cell = (text) => `"${text.trim().replace(/"/g, '""')}"`;
    const lines = [...table.querySelectorAll("tr")].map((row) =>
      [...row.querySelectorAll("th, td")].map((c) => cell(c.textContent)).join(";"));
    const blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = table.dataset.fileName || "codes.csv";
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(link.href);
  });
});

// An upload larger than the page may send: said before it is sent.
document.querySelectorAll("form[data-max-bytes]").forEach((form) => {
  const input = form.querySelector("input[type=file]");
  const error = form.querySelector(".error-text");
  if (!input || !error) return;
  form.addEventListener("submit", (event) => {
    const file = input.files && input.files[0];
    if (file && file.size > Number(form.dataset.maxBytes)) {
      event.preventDefault();
      error.textContent = form.dataset.tooLarge;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  });
});

// Something on its way to the chain (an operation, a registration): look again every few seconds until it
// is done, unless someone has started to fill in a form meanwhile (what they typed would be lost).
const waiting = document.querySelector("[data-refresh]");
if (waiting) {
  let typing = false;
  document.addEventListener("input", () => { typing = true; });
  window.setTimeout(() => { if (!typing) window.location.reload(); }, Number(waiting.dataset.refresh) * 1000);
}

// After a refused form, the summary of what is wrong gets the focus.
const summary = document.getElementById("error-summary");
if (summary) summary.focus();
