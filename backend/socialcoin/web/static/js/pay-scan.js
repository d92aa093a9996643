"use strict";
// The pay hub's QR scanner: the camera, read by the browser's BarcodeDetector where it has one, else by
// jsQR, loaded only now (it is most of the wallet's JavaScript). A till's code opens its pay page here.
(() => {
  const open = document.getElementById("scan-open");
  const panel = document.getElementById("scanner");
  const media = navigator.mediaDevices;
  if (!open || !panel || !media || !media.getUserMedia) return;
  const video = panel.querySelector("video");
  const say = (key) => { panel.querySelector("[data-note]").textContent = panel.dataset[key]; };
  let stream = null;
  let timer = 0;
  open.hidden = false;

  // A till's link (…/betalen/CODE) or a bare code: its pay page on this site; anything else: null.
  const payPage = (text) => {
    let code;
    try { code = new URL(text).pathname.split("/betalen/")[1]; } catch (_) { code = text.replace(/[\s-]/g, ""); }
    return /^[A-Za-z0-9]{6}$/.test(code || "") ? "/betalen/" + code.toUpperCase() : null;
  };
  const reader = async () => {
    try {
      if ((await BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
        const detector = new BarcodeDetector({ formats: ["qr_code"] });
        return async () => ((await detector.detect(video))[0] || {}).rawValue;
      }
    } catch (_) { /* no BarcodeDetector: jsQR */ }
    await new Promise((loaded, failed) => {
      const script = document.head.appendChild(document.createElement("script"));
      script.onload = loaded;
      script.onerror = failed;
      script.src = "/vendor/jsqr.js";
    });
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return async () => {
      const w = (canvas.width = video.videoWidth), h = (canvas.height = video.videoHeight);
      if (!w || !h) return null;
      context.drawImage(video, 0, 0, w, h);
      return (jsQR(context.getImageData(0, 0, w, h).data, w, h) || {}).data;
    };
  };
  open.addEventListener("click", async () => {
    panel.hidden = false;
    say("starting");
    try {
      stream = await media.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      video.srcObject = stream;
      await video.play();
      const read = await reader();
      say("looking");
      const look = async () => {
        if (!stream) return;
        const text = await read().catch(() => null);
        const target = text && payPage(text);
        if (target) { say("found"); location.assign(target); return; }
        if (text) say("foreign");
        timer = setTimeout(look, 200);
      };
      look();
    } catch (_) {
      say("denied");
    }
  });
  panel.querySelector("[data-stop]").addEventListener("click", () => {
    clearTimeout(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    panel.hidden = true;
    open.focus();
  });
})();
