"use strict";
// An own wallet signs a spend in the browser (EIP-1193): the service prepares the typed data (EIP-712), the
// wallet signs it (eth_signTypedData_v4), and the form posts the signature. Texts come from the form.
(() => {
  for (const form of document.querySelectorAll("form[data-sign-url]")) {
    const button = form.querySelector("[data-sign]");
    const note = form.querySelector("[data-sign-note]");
    const say = (text) => { note.textContent = text; note.hidden = false; };
    button.hidden = false;
    button.addEventListener("click", async () => {
      if (!window.ethereum) { say(form.dataset.noWallet); return; }
      const fields = new FormData(form);
      const query = new URLSearchParams();
      for (const name of form.dataset.signFields.split(" ")) query.set(name, fields.get(name) || "");
      button.disabled = true;
      say(form.dataset.busy);
      try {
        const answer = await fetch(form.dataset.signUrl + "?" + query, { headers: { Accept: "application/json" } });
        const prepared = await answer.json();
        if (!answer.ok) { say(prepared.error); return; }
        const [account] = await window.ethereum.request({ method: "eth_requestAccounts" });
        const signature = await window.ethereum.request({
          method: "eth_signTypedData_v4",
          params: [account, JSON.stringify(prepared.typed_data)],
        });
        for (const name of ["valid_after", "valid_before", "nonce"]) form.elements[name].value = prepared[name];
        form.elements.signature.value = signature;
        form.submit();
      } catch (_) {
        say(form.dataset.refused);
      } finally {
        button.disabled = false;
      }
    });
  }
})();
