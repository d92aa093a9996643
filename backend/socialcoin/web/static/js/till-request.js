// A payment request on the till: follows its state over Server-Sent Events and shows what the page already
// holds for each state (every text comes from the page). When it is paid the till plays a short tone,
// made here with the Web Audio API. Without JavaScript the page has a link to look again.
"use strict";

(function () {
  const root = document.querySelector("[data-till-request]");
  if (!root || !window.EventSource) {
    return;
  }
  const FINAL = ["paid", "cancelled"];
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  // Made now, so that it may start at once when paid: the merchant's tap that asked for this payment lets
  // this page play sound. Otherwise the first touch or key on the page lets it.
  let audio = null;
  if (AudioContextClass) {
    try {
      audio = new AudioContextClass();
    } catch (error) {
      audio = null;
    }
  }
  function unlock() {
    if (audio && audio.state === "suspended") {
      audio.resume();
    }
  }
  document.addEventListener("pointerdown", unlock, {once: true});
  document.addEventListener("keydown", unlock, {once: true});

  function tone() {
    if (!audio) {
      return "none";
    }
    unlock();
    const start = audio.currentTime + 0.01;
    const gain = audio.createGain();
    gain.connect(audio.destination);
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
    gain.gain.setValueAtTime(0.3, start + 0.3);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.45);
    const oscillator = audio.createOscillator();
    oscillator.type = "sine";
    oscillator.frequency.setValueAtTime(880, start);
    oscillator.frequency.setValueAtTime(1318.5, start + 0.15);
    oscillator.connect(gain);
    oscillator.start(start);
    oscillator.stop(start + 0.5);
    return audio.state;
  }

  function show(status) {
    if (root.dataset.status === status) {
      return;
    }
    root.dataset.status = status;
    root.querySelectorAll("[data-when]").forEach(function (element) {
      element.hidden = !element.dataset.when.split(" ").includes(status);
    });
    if (status === "paid") {
      root.dataset.tone = tone();
    }
  }

  const events = new EventSource(root.dataset.events);
  events.addEventListener("state", function (event) {
    const status = JSON.parse(event.data).status;
    show(status);
    if (FINAL.includes(status)) {
      events.close();
    }
  });
})();
