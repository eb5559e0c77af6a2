/*
 * The vendor portal's new-order alarm: a shop must never miss an order.
 *
 * - The alarm rings (Web Audio, a two-tone chime every few seconds) while any order of
 *   the shop is waiting to be accepted or rejected, and stops when none is.
 * - Browsers block sound until a click: a visible "Sound is off" button asks once; the
 *   choice (on / muted) is remembered, and any click on the page wakes the audio again.
 * - Only one tab of the shop rings, even with several open: the tabs with sound on
 *   compete for a Web Lock; the holder rings, the others stand by and take over when
 *   it closes.
 * - Orders arriving together make one grouped toast and one alarm, not one each.
 */
(function () {
  "use strict";

  const body = document.body;
  const vendorId = parseInt(body.dataset.vendorId, 10);
  if (Number.isNaN(vendorId)) return;

  const SOUND_KEY = "zora.sound";
  const RING_EVERY_MS = 4000;
  const GROUP_MS = 1200;
  const LOCK_NAME = "zora-alarm-vendor-" + vendorId;

  const pending = new Set((body.dataset.pendingOrders || "").split(",").filter(Boolean).map(Number));
  const control = document.getElementById("sound-control");
  const status = document.getElementById("alarm-status");
  let audio = null;
  let leader = false;
  let lockRequested = false;
  let ringTimer = null;

  function preference() {
    return localStorage.getItem(SOUND_KEY) || "unset";
  }

  function audioReady() {
    return audio !== null && audio.state === "running";
  }

  function render() {
    const wanted = preference() === "on";
    const ready = wanted && audioReady();
    if (control) {
      control.classList.toggle("sound-off", !ready);
      control.classList.toggle("sound-on", ready);
      control.setAttribute("aria-pressed", String(ready));
      control.textContent = ready ? "Sound on" : preference() === "muted" ? "Sound muted" : "Sound is off: enable";
      control.title = ready ? "Click to mute the new-order alarm" : "Click so new orders ring";
    }
    let state = "off";
    if (ready) state = !leader ? "standby" : pending.size ? "ringing" : "armed";
    body.dataset.alarm = state;
    if (status) {
      status.textContent = {
        off: "",
        standby: "Alarm rings in another tab",
        armed: "",
        ringing: pending.size === 1 ? "1 order waiting" : pending.size + " orders waiting",
      }[state];
    }
  }

  function chime() {
    if (!audioReady()) return;
    const start = audio.currentTime;
    [880, 660, 880].forEach((frequency, index) => {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      const at = start + index * 0.18;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.35, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.17);
    });
  }

  function updateRinging() {
    const shouldRing = leader && audioReady() && preference() === "on" && pending.size > 0;
    if (shouldRing && !ringTimer) {
      chime();
      ringTimer = setInterval(chime, RING_EVERY_MS);
    } else if (!shouldRing && ringTimer) {
      clearInterval(ringTimer);
      ringTimer = null;
    }
    render();
  }

  function becomeCandidate() {
    if (lockRequested || !navigator.locks) {
      if (!navigator.locks) leader = true;
      updateRinging();
      return;
    }
    lockRequested = true;
    navigator.locks.request(LOCK_NAME, () => {
      leader = true;
      updateRinging();
      // Held for the tab's lifetime; the next tab in line takes over when this one closes.
      return new Promise(() => {});
    });
    render();
  }

  function wakeAudio() {
    if (preference() !== "on") return;
    if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
    const resumed = audio.state === "running" ? Promise.resolve() : audio.resume();
    resumed.then(() => {
      becomeCandidate();
      updateRinging();
    });
  }

  if (control) {
    control.addEventListener("click", (event) => {
      event.stopPropagation();
      // What the button showed when it was clicked: the pointerdown just before may have woken the audio.
      if (control.getAttribute("aria-pressed") === "true") {
        localStorage.setItem(SOUND_KEY, "muted");
        updateRinging();
      } else {
        localStorage.setItem(SOUND_KEY, "on");
        wakeAudio();
      }
    });
  }
  // Any click on the page counts as the gesture browsers want before audio may start
  // (the sound button decides for itself, from what it showed).
  function wakeOnGesture(event) {
    if (event.target !== control) wakeAudio();
  }
  document.addEventListener("pointerdown", wakeOnGesture, { capture: true });
  document.addEventListener("keydown", wakeOnGesture, { capture: true });
  window.addEventListener("storage", (event) => {
    if (event.key === SOUND_KEY) updateRinging();
  });

  /* Orders: the set of waiting ones drives the alarm; new ones make one grouped toast. */
  let arrived = [];
  let groupTimer = null;
  function announce() {
    groupTimer = null;
    const orders = arrived;
    arrived = [];
    if (!orders.length) return;
    const text = orders.length === 1
      ? "New order " + orders[0].number + " · £" + orders[0].total
      : orders.length + " new orders";
    window.zoraToast(text, {
      kind: "order",
      href: orders.length === 1 ? "/vendor/orders/" + orders[0].id + "/" : "/vendor/orders/?status=pending",
      duration: 10000,
    });
  }

  body.addEventListener("zora:change:orders", (event) => {
    const detail = event.detail;
    const order = detail.record || detail.old_record;
    if (!order || order.vendor_id !== vendorId) return;
    const wasPending = pending.has(order.id);
    if (detail.type !== "DELETE" && detail.record.status === "pending") {
      pending.add(order.id);
      if (detail.type === "INSERT" && !wasPending) {
        arrived.push(order);
        if (!groupTimer) groupTimer = setTimeout(announce, GROUP_MS);
      }
    } else {
      pending.delete(order.id);
    }
    updateRinging();
  });

  if (preference() === "on") wakeAudio();
  render();
})();
