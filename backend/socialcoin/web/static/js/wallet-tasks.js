// Finishing a task: shows the photo that was taken or chosen, and says at once when it is too large
// (the service checks it again). Texts come from the page's data-* attributes.
"use strict";

(function () {
  for (const input of document.querySelectorAll("input.photo-input")) {
    const preview = document.getElementById(input.dataset.preview);
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      input.setCustomValidity("");
      if (preview) {
        if (preview.src) URL.revokeObjectURL(preview.src);
        preview.hidden = true;
      }
      if (!file) return;
      if (file.size > Number(input.dataset.maxBytes)) {
        input.setCustomValidity(input.dataset.tooLarge);
        input.reportValidity();
        return;
      }
      if (preview && file.type.startsWith("image/")) {
        preview.src = URL.createObjectURL(file);
        preview.hidden = false;
      }
    });
  }

  // One press sends a form once.
  for (const form of document.querySelectorAll("form.finish-form")) {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit]");
      if (button) window.setTimeout(() => { button.disabled = true; }, 0);
    });
  }
})();
