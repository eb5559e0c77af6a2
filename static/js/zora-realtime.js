/*
 * Zora's realtime client for the portals: one socket per tab, no build step.
 *
 * Why our own and not htmx's websocket extension: that extension reconnects
 * only on some close codes, misses close events on iOS and re-sends queued
 * messages after a reconnect. This client owns the socket; htmx only fetches
 * partials ("ping then pull"), so permissions and templates stay on the server.
 *
 * It speaks the Phoenix protocol (vsn 1.0.0) of /realtime/v1/websocket, joins
 * one channel with a postgres_changes binding per table the page declares in
 * <body data-realtime-tables>, and resumes after every reconnect from the last
 * seq it saw (the page's render-time seq at first), so nothing committed while
 * it was away is missed. On each change it fires on <body>:
 *   zora:change:<table>   once per event, detail {type, record, old_record, seq}
 *   zora:changed:<table>  coalesced (at most one per COALESCE_MS, last one never dropped),
 *                         what live regions use as their hx-trigger
 *   zora:connection       detail {state: connecting|live|reconnecting|offline, since}
 *   zora:broadcast:<event> for broadcasts on the announcements channel
 *   zora:presence         detail {topic, state: {key: [meta, ...]}} for each presence topic: the one
 *                         <body data-realtime-presence> names (e.g. realtime:online, tracked by the
 *                         server), and one per [data-presence-topic] element, on which this tab tracks
 *                         itself as {name, user_id, tab, state: "viewing"} under data-presence-key
 *                         (`tab` is zoraRealtime.tabId, so a page can tell its own entry from the
 *                         same person's other tabs); zoraRealtime.track(topic, changes) updates that
 *                         meta, and the latest one is tracked again after every reconnect
 * Live regions are never swapped while a form inside them has focus or unsaved
 * edits; they refresh once the person leaves the form.
 */
(function () {
  "use strict";

  const HEARTBEAT_MS = 25000;
  const HEARTBEAT_TIMEOUT_MS = 10000;
  const COALESCE_MS = 350;
  // Back to Live within 5 s of the network returning: no wait between tries exceeds this.
  const MAX_BACKOFF_MS = 4000;
  const OFFLINE_AFTER_MS = 8000;
  const PORTAL_TOPIC = "realtime:portal";
  const ANNOUNCEMENTS_TOPIC = "realtime:announcements";

  const body = document.body;

  function emit(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail, bubbles: true }));
  }

  /* Coalescing: leading edge at once, then at most one per window, trailing edge guaranteed. */
  const coalescers = new Map();
  function changed(table) {
    let state = coalescers.get(table);
    if (!state) {
      state = { timer: null, pending: false };
      coalescers.set(table, state);
    }
    if (state.timer) {
      state.pending = true;
      return;
    }
    emit("zora:changed:" + table, { table: table });
    state.timer = setTimeout(function flush() {
      if (state.pending) {
        state.pending = false;
        emit("zora:changed:" + table, { table: table });
        state.timer = setTimeout(flush, COALESCE_MS);
      } else {
        state.timer = null;
      }
    }, COALESCE_MS);
  }

  class RealtimeClient {
    constructor(options) {
      this.url = options.url;
      this.tables = options.tables;
      this.lastSeq = options.since;
      this.socket = null;
      this.ref = 0;
      this.attempt = 0;
      this.state = "connecting";
      this.disconnectedAt = null;
      this.heartbeatTimer = null;
      this.heartbeatDeadline = null;
      this.reconnectTimer = null;
      this.offlineTimer = null;
      this.joinRefs = {};
      // topic -> {key, meta: what this tab tracks (null: nothing), joined, members: key -> Map(phx_ref -> meta)}
      this.presenceTopics = new Map();
      (options.presenceTopics || []).forEach((topic) => {
        this.presenceTopics.set(topic.topic, { key: topic.key || "", meta: topic.meta || null, joined: false, members: {} });
      });
    }

    /* Tracks this tab on a presence topic with its meta updated by `changes`: now if joined, else on join. */
    track(topic, changes) {
      const presence = this.presenceTopics.get(topic);
      if (!presence) return;
      presence.meta = Object.assign({}, presence.meta, changes);
      if (presence.joined) this.sendTrack(topic, presence);
    }

    sendTrack(topic, presence) {
      this.send(topic, "presence", { type: "presence", event: "track", payload: presence.meta }, this.joinRefs[topic]);
    }

    start() {
      window.addEventListener("online", () => this.reconnectNow());
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") this.reconnectNow();
      });
      window.addEventListener("pagehide", () => this.close());
      this.connect();
    }

    nextRef() {
      this.ref += 1;
      return String(this.ref);
    }

    setState(state) {
      if (this.state === state) return;
      this.state = state;
      body.dataset.connection = state;
      emit("zora:connection", { state: state, since: this.disconnectedAt });
    }

    connect() {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      let socket;
      try {
        socket = new WebSocket(this.url);
      } catch (error) {
        this.scheduleReconnect();
        return;
      }
      this.socket = socket;
      socket.onopen = () => this.joinAll();
      socket.onmessage = (message) => this.receive(message.data);
      socket.onclose = () => {
        if (this.socket === socket) this.lost();
      };
      socket.onerror = () => socket.close();
    }

    close() {
      if (this.socket) {
        const socket = this.socket;
        this.socket = null;
        socket.close();
      }
    }

    send(topic, event, payload, joinRef) {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return null;
      const ref = this.nextRef();
      this.socket.send(JSON.stringify({ topic: topic, event: event, payload: payload, ref: ref, join_ref: joinRef || null }));
      return ref;
    }

    joinAll() {
      const changes = this.tables.map((table) => ({ event: "*", schema: "public", table: table }));
      const portalRef = this.nextRef();
      this.joinRefs[PORTAL_TOPIC] = portalRef;
      this.socket.send(JSON.stringify({
        topic: PORTAL_TOPIC, event: "phx_join", ref: portalRef, join_ref: portalRef,
        payload: { config: { broadcast: { self: false, ack: false }, presence: { key: "", enabled: false },
          postgres_changes: changes, private: false, since: this.lastSeq } },
      }));
      const newsRef = this.nextRef();
      this.joinRefs[ANNOUNCEMENTS_TOPIC] = newsRef;
      this.socket.send(JSON.stringify({
        topic: ANNOUNCEMENTS_TOPIC, event: "phx_join", ref: newsRef, join_ref: newsRef,
        payload: { config: { broadcast: { self: true, ack: false }, presence: { key: "", enabled: false },
          postgres_changes: [], private: false } },
      }));
      this.presenceTopics.forEach((presence, topic) => {
        const presenceRef = this.nextRef();
        this.joinRefs[topic] = presenceRef;
        presence.joined = false;
        this.socket.send(JSON.stringify({
          topic: topic, event: "phx_join", ref: presenceRef, join_ref: presenceRef,
          payload: { config: { broadcast: { self: false, ack: false }, presence: { key: presence.key, enabled: true },
            postgres_changes: [], private: false } },
        }));
      });
      this.startHeartbeat();
    }

    /* Phoenix presence: a full state on join, then diffs of joins and leaves, each a key's metas. */
    applyPresence(topic, event, payload) {
      const presence = this.presenceTopics.get(topic);
      const byRef = (metas) => new Map((metas || []).map((meta) => [meta.phx_ref, meta]));
      if (event === "presence_state") {
        presence.members = {};
        Object.keys(payload).forEach((key) => { presence.members[key] = byRef(payload[key].metas); });
      } else {
        const members = presence.members;
        Object.keys(payload.joins || {}).forEach((key) => {
          const metas = members[key] || new Map();
          byRef(payload.joins[key].metas).forEach((meta, ref) => metas.set(ref, meta));
          members[key] = metas;
        });
        Object.keys(payload.leaves || {}).forEach((key) => {
          const metas = members[key];
          if (!metas) return;
          byRef(payload.leaves[key].metas).forEach((meta, ref) => metas.delete(ref));
          if (!metas.size) delete members[key];
        });
      }
      const state = {};
      Object.keys(presence.members).forEach((key) => { state[key] = Array.from(presence.members[key].values()); });
      emit("zora:presence", { topic: topic, state: state });
    }

    startHeartbeat() {
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = setInterval(() => {
        if (this.heartbeatDeadline) return;
        this.send("phoenix", "heartbeat", {});
        // A socket that stops answering is dead even if no close event ever comes (phones, proxies).
        this.heartbeatDeadline = setTimeout(() => this.socket && this.socket.close(), HEARTBEAT_TIMEOUT_MS);
      }, HEARTBEAT_MS);
    }

    receive(text) {
      let frame;
      try {
        frame = JSON.parse(text);
      } catch (error) {
        return;
      }
      const payload = frame.payload || {};
      if (frame.topic === "phoenix" && frame.event === "phx_reply") {
        clearTimeout(this.heartbeatDeadline);
        this.heartbeatDeadline = null;
        return;
      }
      if (frame.event === "phx_reply" && frame.topic === PORTAL_TOPIC && frame.ref === this.joinRefs[PORTAL_TOPIC]) {
        if (payload.status === "ok") {
          this.attempt = 0;
          this.disconnectedAt = null;
          clearTimeout(this.offlineTimer);
          this.setState("live");
        } else {
          console.error("Zora realtime: join refused", payload.response);
        }
        return;
      }
      const presence = this.presenceTopics.get(frame.topic);
      if (presence && frame.event === "phx_reply" && frame.ref === this.joinRefs[frame.topic]) {
        if (payload.status === "ok") {
          presence.joined = true;
          if (presence.meta) this.sendTrack(frame.topic, presence);
        } else {
          console.error("Zora realtime: presence join refused", frame.topic, payload.response);
        }
        return;
      }
      if (frame.event === "postgres_changes") {
        this.change(payload.data || {});
      } else if (frame.event === "system" && payload.status === "resync_required") {
        this.resync();
      } else if (presence && (frame.event === "presence_state" || frame.event === "presence_diff")) {
        this.applyPresence(frame.topic, frame.event, payload);
      } else if (frame.event === "broadcast") {
        emit("zora:broadcast:" + payload.event, payload.payload || {});
      } else if (frame.event === "phx_error" || frame.event === "phx_close") {
        if (frame.topic === PORTAL_TOPIC && this.socket) this.socket.close();
      }
    }

    change(data) {
      const seq = data.seq;
      if (typeof seq === "number") {
        if (this.lastSeq !== null && seq <= this.lastSeq) return; // already seen: replay overlap
        this.lastSeq = seq;
      }
      const detail = { type: data.type, table: data.table, record: data.record, old_record: data.old_record, seq: seq };
      emit("zora:change:" + data.table, detail);
      changed(data.table);
    }

    /* Events after our seq are no longer kept: re-fetch every live region; their responses carry
       the seq they were read at, and the oldest of those is where this page now stands. */
    resync() {
      const regionSeqs = [];
      const listener = (event) => {
        const seq = parseInt(event.detail.xhr.getResponseHeader("X-Realtime-Seq"), 10);
        if (!Number.isNaN(seq)) regionSeqs.push(seq);
      };
      body.addEventListener("htmx:afterRequest", listener);
      this.tables.forEach(changed);
      setTimeout(() => {
        body.removeEventListener("htmx:afterRequest", listener);
        if (regionSeqs.length) this.lastSeq = Math.max(this.lastSeq || 0, Math.min.apply(null, regionSeqs));
      }, 3000);
      emit("zora:resync", {});
    }

    lost() {
      clearInterval(this.heartbeatTimer);
      clearTimeout(this.heartbeatDeadline);
      this.heartbeatDeadline = null;
      this.socket = null;
      // On the topics this tab is on, who is there is unknown until the rejoin's presence_state:
      // name nobody rather than people who may have left meanwhile.
      this.presenceTopics.forEach((presence, topic) => {
        presence.joined = false;
        if (!presence.meta) return;
        presence.members = {};
        emit("zora:presence", { topic: topic, state: {} });
      });
      if (!this.disconnectedAt) {
        // Timed from the first loss: every failed retry calls this again and must not restart the clock.
        this.disconnectedAt = new Date();
        clearTimeout(this.offlineTimer);
        this.offlineTimer = setTimeout(() => {
          if (this.state !== "live") this.setState("offline");
        }, OFFLINE_AFTER_MS);
      }
      if (navigator.onLine === false) this.setState("offline");
      else if (this.state !== "offline") this.setState("reconnecting");
      this.scheduleReconnect();
    }

    scheduleReconnect() {
      if (this.reconnectTimer) return;
      this.attempt += 1;
      const ceiling = Math.min(MAX_BACKOFF_MS, 250 * Math.pow(2, this.attempt));
      const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter: a restarted server is not stampeded
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    }

    reconnectNow() {
      if (this.socket || this.state === "live") return;
      this.attempt = 0;
      this.connect();
    }
  }

  /* Live regions: no swap while someone is typing in them. ------------------------------ */
  function isTyping(region) {
    const active = document.activeElement;
    if (active && region.contains(active) && active.matches("input, textarea, select, [contenteditable]")) return true;
    return Array.from(region.querySelectorAll("form")).some((form) => form.dataset.dirty === "1");
  }

  document.addEventListener("input", (event) => {
    const form = event.target.closest && event.target.closest("form");
    if (form) form.dataset.dirty = "1";
  });
  document.addEventListener("submit", (event) => {
    delete event.target.dataset.dirty;
  }, true);
  document.addEventListener("reset", (event) => {
    delete event.target.dataset.dirty;
  }, true);

  const deferred = new Set();
  body.addEventListener("htmx:confirm", (event) => {
    const trigger = event.detail.triggeringEvent;
    if (!trigger || !trigger.type || trigger.type.indexOf("zora:changed:") !== 0) return;
    const region = event.detail.elt;
    if (region.dataset.writing) {
      // A form in the region is being sent: refresh once its answer is in, not before.
      event.preventDefault();
      region.dataset.refreshAfterWrite = trigger.type;
    } else if (isTyping(region)) {
      event.preventDefault();
      deferred.add({ region: region, eventName: trigger.type });
    }
  });

  /* A request sent from inside a live region (a form's post, or a get such as "fill in this quick
     reply"): a refresh already under way read the page before it, so it is dropped rather than
     allowed to land after the answer and hide it; refreshes asked for meanwhile wait for the answer. */
  function liveRegionOf(element) {
    return element.closest && element.closest('[hx-trigger*="zora:changed:"]');
  }
  const regionOfRequest = new WeakMap(); // xhr -> the live region its answer lands in
  body.addEventListener("htmx:beforeRequest", (event) => {
    const region = liveRegionOf(event.detail.elt);
    if (!region || region === event.detail.elt) return;
    regionOfRequest.set(event.detail.xhr, region);
    region.dataset.writing = String((parseInt(region.dataset.writing, 10) || 0) + 1);
    htmx.trigger(region, "htmx:abort");
  });
  /* Keyed by the request, not the element: the element may have been swapped out by its own answer,
     and the aborted refresh's own afterRequest must not end the hold. */
  body.addEventListener("htmx:afterRequest", (event) => {
    const region = regionOfRequest.get(event.detail.xhr);
    if (!region) return;
    regionOfRequest.delete(event.detail.xhr);
    const writing = (parseInt(region.dataset.writing, 10) || 1) - 1;
    if (writing > 0) {
      region.dataset.writing = String(writing);
      return;
    }
    delete region.dataset.writing;
    const pending = region.dataset.refreshAfterWrite;
    delete region.dataset.refreshAfterWrite;
    if (pending) htmx.trigger(body, pending);
  });
  /* A filter form outside a live list fetches the list with its query: the list's own refreshes
     must ask for that same query from then on, not the one the page was first rendered with. */
  body.addEventListener("htmx:afterSwap", (event) => {
    const region = event.detail.target;
    const trigger = event.detail.elt;
    if (!region || !region.matches || !region.matches('[hx-trigger*="zora:changed:"][hx-get]')) return;
    if (event.detail.requestConfig.verb !== "get" || region.contains(trigger)) return;
    const fetched = event.detail.pathInfo.finalRequestPath || "";
    if (fetched.split("?")[0] !== region.getAttribute("hx-get").split("?")[0]) return;
    region.setAttribute("hx-get", fetched);
    htmx.process(region);
  });
  document.addEventListener("focusout", () => {
    setTimeout(() => {
      deferred.forEach((entry) => {
        if (!document.contains(entry.region)) {
          deferred.delete(entry);
        } else if (!isTyping(entry.region)) {
          deferred.delete(entry);
          htmx.trigger(body, entry.eventName);
        }
      });
    }, 0);
  });

  /* Start ------------------------------------------------------------------------------- */
  const tables = (body.dataset.realtimeTables || "").split(/\s+/).filter(Boolean);
  if (!body.dataset.realtimeUrl || !tables.length) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = scheme + "//" + location.host + body.dataset.realtimeUrl + "?vsn=1.0.0&portal=" +
    encodeURIComponent(body.dataset.realtimePortal || "app");
  const since = parseInt(body.dataset.realtimeSeq, 10);
  const tabId = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const presenceTopics = [];
  if (body.dataset.realtimePresence) presenceTopics.push({ topic: body.dataset.realtimePresence });
  document.querySelectorAll("[data-presence-topic]").forEach((element) => {
    presenceTopics.push({
      topic: element.dataset.presenceTopic,
      key: element.dataset.presenceKey,
      meta: {
        name: element.dataset.presenceName,
        user_id: Number(element.dataset.presenceUserId),
        tab: tabId,
        state: "viewing",
      },
    });
  });
  const client = new RealtimeClient({
    url: url,
    tables: Array.from(new Set(tables)),
    since: Number.isNaN(since) ? null : since,
    presenceTopics: presenceTopics,
  });
  client.tabId = tabId;
  window.zoraRealtime = client;
  body.dataset.connection = "connecting";
  client.start();
})();
