/*
 * The admin dashboard's extras on top of the realtime client: who is online now, by
 * portal, from presence on realtime:online (the server tracks every signed-in socket
 * there with the portal it came from).
 */
(function () {
  "use strict";

  const PORTALS = { app: "online-app", vendor: "online-vendor", dashboard: "online-dashboard" };

  document.body.addEventListener("zora:presence", (event) => {
    const counts = { app: new Set(), vendor: new Set(), dashboard: new Set() };
    Object.entries(event.detail.state).forEach(([key, metas]) => {
      metas.forEach((meta) => {
        if (counts[meta.portal]) counts[meta.portal].add(key);
      });
    });
    Object.entries(PORTALS).forEach(([portal, id]) => {
      const element = document.getElementById(id);
      if (element) element.textContent = String(counts[portal].size);
    });
  });
})();
