// The till: big keys to type the amount on a tablet (the keyboard works as well), and the print button of
// the counter's QR code. Without JavaScript the amount is typed in the field and the page printed from the
// browser's menu.
"use strict";

(function () {
  const keypad = document.querySelector("[data-keypad]");
  if (keypad) {
    const input = document.getElementById(keypad.dataset.for);
    keypad.hidden = false;
    keypad.addEventListener("click", function (event) {
      const key = event.target.closest("[data-key]");
      if (!key || !input) {
        return;
      }
      const value = input.value;
      if (key.dataset.key === "back") {
        input.value = value.slice(0, -1);
      } else if (key.dataset.key === ",") {
        if (!/[.,]/.test(value)) {
          input.value = (value || "0") + ",";
        }
      } else if (!/[.,]\d\d$/.test(value)) {
        input.value = value === "0" ? key.dataset.key : value + key.dataset.key;
      }
    });
  }

  const print = document.querySelector("[data-print]");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () {
      window.print();
    });
  }
})();
