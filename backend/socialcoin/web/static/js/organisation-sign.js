// Signs a task's attestation in the page with the organisation's own key, and posts only the signature.
//
// Two ways, as the verifier chooses:
// - an encrypted keystore file (Ethereum V3 keystore), opened here with its password by ethers
//   (/vendor/ethers.js); the key lives in this page's memory only, for the moment of signing;
// - a wallet in the browser, over EIP-1193 (window.ethereum): eth_requestAccounts, then
//   eth_signTypedData_v4 with the same typed data.
// The typed data comes from the page (data-typed-data, rendered from the same domain function as
// GET /organisations/me/tasks/{id}/attestation); the signature and the deadline go into the page's
// form (#attest-form), which posts them and shows the service's answer. Texts come from data-text-*.
"use strict";

(() => {
  const panel = document.getElementById("sign-panel");
  const sendForm = document.getElementById("attest-form");
  if (!panel || !sendForm) return;

  const typed = JSON.parse(panel.dataset.typedData);
  const texts = panel.dataset;
  const keystoreForm = document.getElementById("keystore-form");
  const fileInput = document.getElementById("keystore-file");
  const passwordInput = document.getElementById("keystore-password");
  const walletButton = document.getElementById("wallet-sign");
  const status = document.getElementById("sign-status");
  const progressBox = document.getElementById("sign-progress-box");
  const progressBar = document.getElementById("sign-progress-bar");
  const problem = document.getElementById("sign-problem");
  const buttons = panel.querySelectorAll("button");
  let busy = false;

  panel.hidden = false;

  // The way of signing that is chosen shows; the other hides.
  function showMethod() {
    const chosen = panel.querySelector('input[name="sign-method"]:checked').value;
    for (const section of panel.querySelectorAll("[data-method]")) {
      section.hidden = section.dataset.method !== chosen;
    }
    clearProblems();
  }
  for (const choice of panel.querySelectorAll('input[name="sign-method"]')) {
    choice.addEventListener("change", showMethod);
  }
  showMethod();

  function say(text) {
    status.textContent = text;
  }

  function setBusy(value) {
    busy = value;
    for (const button of buttons) button.disabled = value;
    if (!value) progressBox.hidden = true;
  }

  function fieldError(input, text) {
    const error = document.getElementById(`${input.id}-error`);
    const field = input.closest(".field");
    error.textContent = text;
    error.hidden = false;
    field.classList.add("field-error");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", [error.id, input.getAttribute("aria-describedby")].filter(Boolean).join(" "));
  }

  function clearProblems() {
    problem.hidden = true;
    problem.firstElementChild.textContent = "";
    for (const input of [fileInput, passwordInput]) {
      const error = document.getElementById(`${input.id}-error`);
      error.hidden = true;
      error.textContent = "";
      input.closest(".field").classList.remove("field-error");
      input.removeAttribute("aria-invalid");
      const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== error.id);
      if (described.length) input.setAttribute("aria-describedby", described.join(" "));
      else input.removeAttribute("aria-describedby");
    }
  }

  // A refusal in the page: beside the field it concerns (read out when the field takes the focus), or in
  // the alert box under the buttons.
  function refuse(text, input) {
    setBusy(false);
    say("");
    if (input) {
      fieldError(input, text);
      input.focus();
    } else {
      problem.firstElementChild.textContent = text;
      problem.hidden = false;
      problem.focus();
    }
  }

  function send(signature) {
    say(texts.textSending);
    sendForm.elements.signature.value = signature;
    sendForm.elements.deadline.value = String(typed.message.deadline);
    sendForm.submit();
  }

  // ethers wants the types without EIP712Domain (it builds the domain's type itself).
  function messageTypes() {
    return Object.fromEntries(Object.entries(typed.types).filter(([name]) => name !== "EIP712Domain"));
  }

  keystoreForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    clearProblems();
    const file = fileInput.files[0];
    if (!file) return refuse(texts.textNoFile, fileInput);
    if (!passwordInput.value) return refuse(texts.textNoPassword, passwordInput);
    setBusy(true);
    let json;
    try {
      json = await file.text();
    } catch {
      return refuse(texts.textNotKeystore, fileInput);
    }
    if (typeof ethers === "undefined") return refuse(texts.textFailed);
    if (!ethers.isKeystoreJson(json)) return refuse(texts.textNotKeystore, fileInput);
    progressBar.value = 0;
    progressBox.hidden = false;
    say(texts.textOpening);
    let wallet;
    try {
      wallet = await ethers.Wallet.fromEncryptedJson(json, passwordInput.value, (share) => {
        progressBar.value = Math.round(share * 100);
      });
    } catch (error) {
      if (error && error.argument === "password") return refuse(texts.textWrongPassword, passwordInput);
      return refuse(texts.textNotKeystore, fileInput);
    } finally {
      passwordInput.value = "";
    }
    progressBox.hidden = true;
    say(texts.textSigning);
    let signature;
    try {
      signature = await wallet.signTypedData(typed.domain, messageTypes(), typed.message);
    } catch {
      return refuse(texts.textFailed);
    } finally {
      wallet = null;
    }
    send(signature);
  });

  walletButton.addEventListener("click", async () => {
    if (busy) return;
    clearProblems();
    const provider = window.ethereum;
    if (!provider || typeof provider.request !== "function") return refuse(texts.textNoWallet);
    setBusy(true);
    say(texts.textWalletAsking);
    let signature;
    try {
      const accounts = await provider.request({ method: "eth_requestAccounts" });
      if (!Array.isArray(accounts) || accounts.length === 0) return refuse(texts.textWalletRefused);
      signature = await provider.request({
        method: "eth_signTypedData_v4",
        params: [accounts[0], JSON.stringify(typed)],
      });
    } catch (error) {
      // 4001: the person said no in the wallet (EIP-1193).
      return refuse(error && error.code === 4001 ? texts.textWalletRefused : texts.textWalletFailed);
    }
    if (typeof signature !== "string" || !/^0x[0-9a-fA-F]+$/.test(signature)) {
      return refuse(texts.textWalletFailed);
    }
    send(signature);
  });
})();
