/*
 * The admin dashboard's extras on top of the realtime client:
 * - who is online now, by portal, from presence on realtime:online (the server tracks every
 *   signed-in socket there with the portal it came from);
 * - on an object's page, the "Also here" bar (templates/dashboard/_presence.html): the other
 *   admins on the same object (and the same admin's other tabs), and whether they are viewing
 *   it or editing one of its forms.
 *   This tab says "editing" while a field of a form on the page has focus or is being typed
 *   in, and "viewing" again when it leaves the form or submits it;
 * - selects of ready-made messages that write the chosen one into a textarea to edit.
 */
(function () {
  "use strict";

  const ONLINE_TOPIC = "realtime:online";
  const PORTALS = { app: "online-app", vendor: "online-vendor", dashboard: "online-dashboard" };
  const FIELDS = "input:not([type=hidden]):not([type=submit]):not([type=button]), textarea, select";

  function showOnline(state) {
    const counts = { app: new Set(), vendor: new Set(), dashboard: new Set() };
    Object.entries(state).forEach(([key, metas]) => {
      metas.forEach((meta) => {
        if (counts[meta.portal]) counts[meta.portal].add(key);
      });
    });
    Object.entries(PORTALS).forEach(([portal, id]) => {
      const element = document.getElementById(id);
      if (element) element.textContent = String(counts[portal].size);
    });
  }

  /* Everyone on the object but this tab, one entry per person however many tabs they have open. */
  function others(state) {
    const ownTab = window.zoraRealtime && window.zoraRealtime.tabId;
    const people = new Map();
    Object.values(state).forEach((metas) => {
      metas.forEach((meta) => {
        if (meta.tab === ownTab) return;
        const id = String(meta.user_id);
        const known = people.get(id);
        people.set(id, { name: meta.name, editing: (known && known.editing) || meta.state === "editing" });
      });
    });
    return Array.from(people.values()).sort((a, b) => a.name.localeCompare(b.name));
  }

  function showAlsoHere(bar, state) {
    const list = bar.querySelector("[data-presence-others]");
    const people = others(state);
    list.replaceChildren();
    bar.classList.toggle("presence-alone", !people.length);
    if (!people.length) return;
    list.append("Also here: ");
    people.forEach((person, index) => {
      if (index) list.append(" · ");
      const entry = document.createElement("span");
      entry.className = person.editing ? "presence-person presence-editing" : "presence-person";
      entry.textContent = person.name + (person.editing ? " (editing)" : " (viewing)");
      list.append(entry);
    });
  }

  document.body.addEventListener("zora:presence", (event) => {
    const { topic, state } = event.detail;
    if (topic === ONLINE_TOPIC) {
      showOnline(state);
      return;
    }
    document.querySelectorAll("[data-presence-topic]").forEach((bar) => {
      if (bar.dataset.presenceTopic === topic) showAlsoHere(bar, state);
    });
  });

  /* A select of ready-made messages (data-texts, by option value) writes the chosen one into the
     field it names (data-fills), where the admin can still edit it before sending. */
  document.addEventListener("change", (event) => {
    const select = event.target;
    if (!select.matches || !select.matches("select[data-fills][data-texts]") || !select.value) return;
    const target = document.getElementById(select.dataset.fills);
    const text = JSON.parse(select.dataset.texts)[select.value];
    if (!target || text === undefined) return;
    target.value = text;
    target.dispatchEvent(new Event("input", { bubbles: true }));
  });

  /* Viewing or editing ---------------------------------------------------------------------- */
  const bars = Array.from(document.querySelectorAll("[data-presence-topic]"));
  if (!bars.length) return;
  let current = "viewing";

  function announce(state) {
    if (state === current || !window.zoraRealtime) return;
    current = state;
    bars.forEach((bar) => {
      window.zoraRealtime.track(bar.dataset.presenceTopic, { state: state });
    });
  }

  function inPageForm(element) {
    return Boolean(element && element.matches && element.matches(FIELDS) && element.closest("main form"));
  }

  document.addEventListener("focusin", (event) => {
    if (inPageForm(event.target)) announce("editing");
  });
  document.addEventListener("input", (event) => {
    if (inPageForm(event.target)) announce("editing");
  });
  document.addEventListener("focusout", () => {
    // Focus moves after focusout: look once it has landed, so going from field to field stays "editing".
    setTimeout(() => {
      if (!inPageForm(document.activeElement)) announce("viewing");
    }, 0);
  });
  document.addEventListener("submit", () => announce("viewing"), true);
})();

/* Toasts for what the platform team acts on, grouped when several arrive together. */
(function () {
  "use strict";

  const GROUP_MS = 1200;
  const KINDS = {
    vendor_applications: { one: (row) => "New vendor application: " + row.business_name, many: (n) => n + " new vendor applications", href: "/dashboard/applications/" },
    email_threads: { one: (row) => "New support thread: " + row.subject, many: (n) => n + " new support threads", href: "/dashboard/support/" },
  };

  Object.entries(KINDS).forEach(([table, kind]) => {
    let arrived = [];
    let timer = null;
    document.body.addEventListener("zora:change:" + table, (event) => {
      if (event.detail.type !== "INSERT" || !event.detail.record) return;
      arrived.push(event.detail.record);
      if (timer) return;
      timer = setTimeout(() => {
        const rows = arrived;
        arrived = [];
        timer = null;
        window.zoraToast(rows.length === 1 ? kind.one(rows[0]) : kind.many(rows.length), { href: kind.href });
      }, GROUP_MS);
    });
  });
})();
