/*
 * What every portal page does around the realtime client: the connection state in
 * the header, toasts, "new" badges in the sidebar, the announcement banner,
 * countdowns, the phone menu, and optimistic buttons that roll back when the
 * server refuses. Pages stay server-rendered; this only decorates them.
 */
(function () {
  "use strict";

  const body = document.body;
  const timeFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });

  /* htmx: swap the re-rendered partial a refusal (409, 422) answers with, so the page shows the
     current state and the message; other errors keep the page and say so in a toast. */
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "(409|422|400|429)", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
  ];
  htmx.config.historyCacheSize = 0;

  /* Toasts ----------------------------------------------------------------------------- */
  const toasts = document.getElementById("toasts");
  function toast(message, options) {
    options = options || {};
    if (!toasts) return null;
    const element = document.createElement("div");
    element.className = "toast toast-" + (options.kind || "info");
    element.setAttribute("role", options.kind === "error" ? "alert" : "status");
    const text = document.createElement("div");
    text.className = "toast-body";
    if (options.href) {
      const link = document.createElement("a");
      link.href = options.href;
      link.textContent = message;
      text.appendChild(link);
    } else {
      text.textContent = message;
    }
    const close = document.createElement("button");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => element.remove());
    element.append(text, close);
    toasts.appendChild(element);
    setTimeout(() => element.remove(), options.duration || 6000);
    return element;
  }
  window.zoraToast = toast;
  body.addEventListener("zora:toast", (event) => toast(event.detail.message || event.detail.value, event.detail));
  document.querySelectorAll("template[data-flash]").forEach((template) => {
    toast(template.dataset.message, { kind: template.dataset.kind });
  });
  body.addEventListener("htmx:responseError", (event) => {
    toast("The server could not do that (" + event.detail.xhr.status + "). Reload the page and try again.", { kind: "error" });
  });
  body.addEventListener("htmx:sendError", () => toast("Could not reach Zora: check the connection.", { kind: "error" }));

  /* Connection state in the header ---------------------------------------------------------- */
  const indicator = document.getElementById("connection-state");
  body.addEventListener("zora:connection", (event) => {
    if (!indicator) return;
    const state = event.detail.state;
    indicator.className = "conn conn-" + state;
    if (state === "live") indicator.textContent = "Live";
    else if (state === "reconnecting") indicator.textContent = "Reconnecting…";
    else if (state === "offline") indicator.textContent = "Offline since " + timeFormat.format(event.detail.since || new Date());
    else indicator.textContent = "Connecting…";
  });

  /* "New" badges for pages not in view -------------------------------------------------- */
  const NEW_KEY = "zora.nav.new";
  const seenNew = new Set(JSON.parse(sessionStorage.getItem(NEW_KEY) || "[]"));
  const navLinks = Array.from(document.querySelectorAll("[data-nav-tables]"));
  function renderBadges() {
    navLinks.forEach((link) => {
      const name = link.dataset.navName;
      let badge = link.querySelector(".nav-new");
      if (seenNew.has(name) && link.getAttribute("aria-current") !== "page") {
        if (!badge) {
          badge = document.createElement("span");
          badge.className = "nav-new";
          badge.textContent = "new";
          link.appendChild(badge);
        }
      } else if (badge) {
        badge.remove();
      }
    });
    sessionStorage.setItem(NEW_KEY, JSON.stringify(Array.from(seenNew)));
  }
  navLinks.forEach((link) => {
    if (link.getAttribute("aria-current") === "page") seenNew.delete(link.dataset.navName);
    link.dataset.navTables.split(/\s+/).filter(Boolean).forEach((table) => {
      body.addEventListener("zora:change:" + table, (event) => {
        if (event.detail.type === "INSERT" && link.getAttribute("aria-current") !== "page") {
          seenNew.add(link.dataset.navName);
          renderBadges();
        }
      });
    });
  });
  renderBadges();

  /* Announcement banner ------------------------------------------------------------------ */
  const banner = document.getElementById("announcement-banner");
  body.addEventListener("zora:broadcast:announcement", (event) => {
    if (!banner) return;
    const detail = event.detail || {};
    banner.dataset.level = detail.level || "info";
    banner.querySelector("p").textContent = (detail.title ? detail.title + ": " : "") + (detail.message || "");
    banner.hidden = false;
  });
  if (banner) banner.querySelector("button").addEventListener("click", () => { banner.hidden = true; });

  /* Countdowns: time left to a deadline, then a red count-up ----------------------------- */
  function clock(seconds) {
    const minutes = Math.floor(seconds / 60);
    const rest = String(seconds % 60).padStart(2, "0");
    return minutes + ":" + rest;
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach((element) => {
      const left = Math.round((Date.parse(element.dataset.deadline) - now) / 1000);
      element.classList.toggle("late", left < 0);
      element.textContent = left >= 0 ? clock(left) + " left" : "late " + clock(-left);
    });
  }
  tick();
  setInterval(tick, 1000);
  body.addEventListener("htmx:afterSettle", tick);

  /* Phone menu ------------------------------------------------------------------------ */
  const menuButton = document.querySelector(".menu-toggle");
  const sidebar = document.getElementById("sidebar");
  if (menuButton && sidebar) {
    menuButton.addEventListener("click", () => {
      const open = sidebar.classList.toggle("open");
      menuButton.setAttribute("aria-expanded", String(open));
    });
  }

  /* Optimistic buttons: a form whose button says what state it leads to shows that state at
     once; if the server refuses, its answer (the partial at the real state) replaces it, and
     if the request never arrives the old state comes back. */
  body.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest("form[data-optimistic-status]");
    if (!form) return;
    const scope = form.closest("[data-optimistic-scope]") || document;
    const badge = scope.querySelector("[data-order-status]");
    if (badge) {
      form._rollback = { badge: badge, text: badge.textContent, className: badge.className };
      badge.textContent = form.dataset.optimisticLabel || form.dataset.optimisticStatus;
      badge.className = "badge badge-" + form.dataset.optimisticStatus;
    }
    scope.querySelectorAll("form[data-optimistic-status] button").forEach((button) => { button.disabled = true; });
  });
  body.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest("form[data-optimistic-status]");
    if (!form || !form._rollback) return;
    if (event.detail.failed || !event.detail.xhr || event.detail.xhr.status === 0) {
      const saved = form._rollback;
      saved.badge.textContent = saved.text;
      saved.badge.className = saved.className;
      const scope = form.closest("[data-optimistic-scope]") || document;
      scope.querySelectorAll("form[data-optimistic-status] button").forEach((button) => { button.disabled = false; });
    }
    form._rollback = null;
  });
})();
