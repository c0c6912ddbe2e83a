// The Switchboard registry dashboard. Renders the hub's /ui/api/services snapshot and follows /ui/api/events.
// Every text that comes from a registration goes into the page through textContent, never as HTML.
"use strict";

(function () {
  const COLUMNS = [["c-id", "Instance"], ["c-address", "Address"], ["c-version", "Version"], ["c-zone", "Zone"],
                   ["c-weight", "Weight"], ["c-metadata", "Metadata"], ["c-registered", "Registered"],
                   ["c-ttl", "Lease TTL"], ["c-renewal", "Last renewal"], ["c-state", "Lease"]];
  const POLL_MILLIS = 2000;
  const ROUTES_MILLIS = 1000;
  const STREAM_RETRY_MILLIS = 15000;

  let last = null;          // the last snapshot received
  let receivedAt = null;    // when it arrived (browser clock)
  let hubReachable = false; // whether the event stream (or polling) currently reaches the hub
  let pollTimer = null;
  let routesAt = 0;         // when the routes were last asked for (browser clock)
  let routesTimer = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) {
      return "–";
    }
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) {
      return seconds + " s";
    }
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) {
      return minutes + " min " + (seconds % 60) + " s";
    }
    const hours = Math.floor(minutes / 60);
    if (hours < 48) {
      return hours + " h " + (minutes % 60) + " min";
    }
    return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
  }

  function clock(iso) {
    return iso ? new Date(iso).toLocaleTimeString() : "–";
  }

  function searchText(service, instance) {
    const parts = [service.name, instance.id, instance.host + ":" + instance.port, instance.version, instance.zone];
    Object.entries(instance.metadata || {}).forEach(([k, v]) => parts.push(k + "=" + v));
    return parts.join("\n").toLowerCase();
  }

  function instanceRow(service, instance, now) {
    const row = el("tr");
    row.dataset.service = service.name;
    row.dataset.instance = service.name + "/" + instance.id;
    row.append(el("td", "c-id mono", instance.id));
    row.append(el("td", "c-address mono", instance.host + ":" + instance.port));
    row.append(el("td", "c-version", instance.version || "–"));
    row.append(el("td", "c-zone", instance.zone || "–"));
    row.append(el("td", "c-weight num", instance.weight));

    const metadata = el("td", "c-metadata");
    Object.entries(instance.metadata || {}).forEach(([key, value]) => metadata.append(el("span", "meta", key + "=" + value)));
    row.append(metadata);

    const registered = el("td", "c-registered num");
    if (instance.registeredAt) {
      registered.textContent = duration((now - Date.parse(instance.registeredAt)) / 1000) + " ago";
      registered.title = new Date(instance.registeredAt).toString();
    } else {
      registered.textContent = "unknown";
    }
    row.append(registered);

    const lease = instance.lease || {state: "unknown"};
    const ttl = el("td", "c-ttl num", lease.ttlSeconds === null || lease.ttlSeconds === undefined ? "–"
        : lease.ttlSeconds + " s (" + lease.remainingSeconds + " s left)");
    ttl.title = "lease " + (lease.id || "?");
    row.append(ttl);
    row.append(el("td", "c-renewal num", lease.sinceRenewalSeconds === null || lease.sinceRenewalSeconds === undefined
        ? "–" : duration(lease.sinceRenewalSeconds) + " ago"));
    row.append(el("td", "c-state state state-" + lease.state, lease.state));
    return row;
  }

  function serviceSection(service, instances, now) {
    const section = el("section", "service");
    section.dataset.service = service.name;
    const head = el("div", "service-head");
    head.append(el("h2", "mono", service.name));
    head.append(el("span", "c-count muted", service.instanceCount + (service.instanceCount === 1 ? " instance" : " instances")
        + ", " + service.healthyCount + " healthy"));
    section.append(head);

    const table = el("table");
    const header = el("tr");
    COLUMNS.forEach(([className, title]) => header.append(el("th", className, title)));
    const thead = el("thead");
    thead.append(header);
    table.append(thead);
    const body = el("tbody");
    instances.forEach((instance) => body.append(instanceRow(service, instance, now)));
    table.append(body);
    section.append(table);
    return section;
  }

  function render() {
    const container = $("services");
    if (!last) {
      return;
    }
    const query = $("filter").value.trim().toLowerCase();
    const now = Date.parse(last.generatedAt); // the hub's clock: ages do not depend on this browser's clock
    const sections = [];
    let shownInstances = 0;
    last.services.forEach((service) => {
      const matchesService = !query || service.name.toLowerCase().includes(query);
      const instances = matchesService ? service.instances
          : service.instances.filter((i) => searchText(service, i).includes(query));
      if (instances.length > 0) {
        sections.push(serviceSection(service, instances, now));
        shownInstances += instances.length;
      }
    });
    if (sections.length === 0) {
      const message = last.services.length === 0
          ? (last.view.synced ? "No services registered." : "Waiting for the hub to read etcd…")
          : "Nothing matches the filter.";
      sections.push(el("div", "empty", message));
    }
    container.replaceChildren(...sections);

    const healthy = last.services.reduce((sum, service) => sum + service.healthyCount, 0);
    $("summary").textContent = last.serviceCount + " services, " + last.instanceCount + " instances, "
        + healthy + " healthy" + (query ? " (" + shownInstances + " shown)" : "");
    renderStatus();
  }

  function renderStatus() {
    const pill = $("connection");
    const banner = $("banner");
    let problem = null;
    if (!hubReachable) {
      pill.className = "pill pill-bad";
      pill.textContent = "hub unreachable";
      problem = "Connection to the hub lost — showing what it last sent"
          + (receivedAt ? " at " + receivedAt.toLocaleTimeString() : "") + "; reconnecting…";
    } else if (last && !last.etcd.up) {
      pill.className = "pill pill-bad";
      pill.textContent = "etcd unreachable";
      problem = "etcd unreachable since " + clock(last.etcd.since)
          + " — showing the hub's last known state, which may be out of date; lease ages are unknown until etcd answers.";
    } else if (last && !last.view.synced) {
      pill.className = "pill pill-wait";
      pill.textContent = "resyncing";
      problem = "The hub is re-reading etcd — the list may be incomplete.";
    } else {
      pill.className = "pill pill-ok";
      pill.textContent = pollTimer ? "live (polling)" : "live";
    }
    banner.hidden = problem === null;
    banner.textContent = problem || "";
    document.body.classList.toggle("stale", problem !== null);
    $("updated").textContent = last ? "updated " + clock(last.generatedAt) : "";
  }

  function accept(snapshot) {
    last = snapshot;
    receivedAt = new Date();
    hubReachable = true;
    render();
    refreshRoutes();
  }

  function routeCells(row, route) {
    row.append(el("td", "c-method mono", route.method));
    row.append(el("td", "c-path mono", route.path));
    row.append(el("td", "c-service mono", route.service));
    row.append(el("td", "c-rpc mono", route.rpc));
    row.append(el("td", "c-auth", route.auth ? "token" : "–"));
  }

  function renderRoutes(plan) {
    const table = el("table", "routes-table");
    const header = el("tr");
    [["c-method", "Method"], ["c-path", "Path"], ["c-service", "Service"], ["c-rpc", "gRPC method"], ["c-auth", "Auth"]]
      .forEach(([className, title]) => header.append(el("th", className, title)));
    const thead = el("thead");
    thead.append(header);
    table.append(thead);
    const body = el("tbody");
    plan.routes.forEach((route) => {
      const row = el("tr", "route");
      row.dataset.route = route.method + " " + route.path;
      routeCells(row, route);
      body.append(row);
    });
    plan.conflicts.forEach((conflict) => {
      const row = el("tr", "conflict");
      row.dataset.conflict = conflict.service + " " + conflict.method + " " + conflict.path;
      routeCells(row, conflict);
      row.lastChild.textContent = "conflict: not served, " + conflict.winner.service + " has "
          + conflict.winner.method + " " + conflict.winner.path;
      body.append(row);
    });
    plan.refused.forEach((refusal) => {
      const row = el("tr", "refused");
      row.dataset.refused = refusal.service;
      const cell = el("td", "", "schema of " + refusal.service + " refused: " + refusal.reason);
      cell.colSpan = 5;
      row.append(cell);
      body.append(row);
    });
    table.append(body);
    $("routes").replaceChildren(plan.routes.length + plan.conflicts.length + plan.refused.length === 0
        ? el("div", "empty", "No routes: no live instance publishes an API with HTTP rules.") : table);
    $("routes-summary").textContent = plan.routes.length + " routes, " + plan.conflicts.length + " conflicts, "
        + plan.refused.length + " refused schemas" + (plan.complete ? "" : " (a schema could not be read: incomplete)");
  }

  // at most once a second, and once more after the last change
  function refreshRoutes() {
    const wait = routesAt + ROUTES_MILLIS - Date.now();
    if (wait > 0) {
      if (!routesTimer) {
        routesTimer = setTimeout(() => {
          routesTimer = null;
          refreshRoutes();
        }, wait);
      }
      return;
    }
    routesAt = Date.now();
    getJson("/ui/api/routes")
      .then(renderRoutes)
      .catch(() => {
        $("routes-summary").textContent = "routes unavailable";
      });
  }

  function getJson(url) {
    return fetch(url, {cache: "no-store"}).then((response) => {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function poll() {
    getJson("/ui/api/services")
      .then(accept)
      .catch(() => {
        hubReachable = false;
        renderStatus();
      });
  }

  function startPolling() {
    if (!pollTimer) {
      pollTimer = setInterval(poll, POLL_MILLIS);
    }
  }

  function stopPolling() {
    if (pollTimer) {
      clearInterval(pollTimer);
      pollTimer = null;
    }
  }

  function connect() {
    const events = new EventSource("/ui/api/events");
    events.addEventListener("services", (event) => {
      stopPolling();
      accept(JSON.parse(event.data));
    });
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED) {
        // refused (the hub has too many streams open, or an old hub without one): poll, try the stream later
        startPolling();
        setTimeout(connect, STREAM_RETRY_MILLIS);
      } else {
        // the browser reconnects by itself
        hubReachable = false;
        renderStatus();
      }
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("filter").addEventListener("input", render);
    poll();
    connect();
  });
})();
