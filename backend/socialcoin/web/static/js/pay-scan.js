"use strict";
// The in-page QR scanner (the pay hub): the camera, decoded by the browser's BarcodeDetector where it has
// one, else by jsQR, which is loaded only now (it is most of the page's JavaScript). A till's code opens its
// pay page on this site; any other QR code is named as such. Texts come from the panel's data attributes.
(() => {
  const open = document.getElementById("scan-open");
  const panel = document.getElementById("scanner");
  if (!open || !panel || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  const video = panel.querySelector("video");
  const note = panel.querySelector("[data-note]");
  const texts = panel.dataset;
  let stream = null;
  let timer = 0;
  open.hidden = false;

  const say = (text) => { note.textContent = text; };
  // A till's link (…/betalen/CODE) or a bare code: the pay page here; anything else: null.
  const payPage = (text) => {
    try {
      const found = new URL(text).pathname.match(/^\/betalen\/([A-Za-z0-9]{4,12})$/);
      if (found) return "/betalen/" + found[1];
    } catch (_) { /* not a link */ }
    const code = text.replace(/[\s-]/g, "").toUpperCase();
    return /^[A-Z0-9]{6}$/.test(code) ? "/betalen/" + code : null;
  };
  const loadJsQR = () => new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/vendor/jsqr.js";
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
  const decoder = async () => {
    if ("BarcodeDetector" in window) {
      try {
        if ((await BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
          const detector = new BarcodeDetector({ formats: ["qr_code"] });
          return async () => { const [hit] = await detector.detect(video); return hit ? hit.rawValue : null; };
        }
      } catch (_) { /* fall back to jsQR */ }
    }
    await loadJsQR();
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return async () => {
      const width = video.videoWidth, height = video.videoHeight;
      if (!width || !height) return null;
      canvas.width = width;
      canvas.height = height;
      context.drawImage(video, 0, 0, width, height);
      const hit = jsQR(context.getImageData(0, 0, width, height).data, width, height);
      return hit ? hit.data : null;
    };
  };
  const stop = () => {
    clearTimeout(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    panel.hidden = true;
    open.focus();
  };
  open.addEventListener("click", async () => {
    panel.hidden = false;
    say(texts.starting);
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      video.srcObject = stream;
      await video.play();
      const read = await decoder();
      say(texts.looking);
      const look = async () => {
        if (!stream) return;
        const text = await read().catch(() => null);
        const target = text && payPage(text);
        if (target) { say(texts.found); location.assign(target); return; }
        if (text) say(texts.foreign);
        timer = setTimeout(look, 200);
      };
      look();
    } catch (_) {
      say(texts.denied);
    }
  });
  panel.querySelector("[data-stop]").addEventListener("click", stop);
})();
