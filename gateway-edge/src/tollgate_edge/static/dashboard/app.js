// Tollgate dashboard: reads the admin API with the API key the user signs in with.
// Every value from the API is inserted as text (never as HTML).
"use strict";

(() => {
  const KEY = "tollgate.apiKey";
  const RANGES = {
    "1h": { ms: 3600e3, granularity: "minute" },
    "24h": { ms: 86400e3, granularity: "hour" },
    "7d": { ms: 7 * 86400e3, granularity: "day" },
    "30d": { ms: 30 * 86400e3, granularity: "day" },
  };
  const PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#db2777", "#ca8a04", "#4b5563"];
  const state = { key: sessionStorage.getItem(KEY) || "", me: null, charts: {} };
  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path) {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${state.key}` } });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = (body && body.error && body.error.message) || `HTTP ${response.status}`;
      throw new ApiError(response.status, message);
    }
    return body;
  }

  // -- formatting ------------------------------------------------------------------------

  const text = (value) => (value === null || value === undefined || value === "" ? "–" : String(value));
  const time = (iso) => (iso ? new Date(iso).toLocaleString() : "–");
  const usd = (value) => (value === undefined || value === null ? "–" : `$${value}`);

  function row(tbody, cells) {
    const tr = document.createElement("tr");
    for (const [value, numeric] of cells) {
      const td = document.createElement("td");
      td.textContent = text(value);
      if (numeric) td.className = "num";
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }

  function fill(tableId, items, cellsOf, emptyText) {
    const tbody = $(tableId).querySelector("tbody");
    tbody.replaceChildren();
    if (!items.length) {
      row(tbody, [[emptyText, false]]);
      return;
    }
    for (const item of items) row(tbody, cellsOf(item));
  }

  // -- charts ----------------------------------------------------------------------------

  function labelOf(t, granularity) {
    const d = new Date(t);
    if (granularity === "day") return d.toLocaleDateString();
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function axis(series) {
    const ts = new Set();
    for (const s of series) for (const p of s.points) ts.add(p.t);
    return [...ts].sort();
  }

  function draw(name, config, hasData, unavailable) {
    const empty = document.querySelector(`.empty[data-for="${name}"]`);
    empty.textContent = unavailable || (hasData ? "" : "No data in this range yet.");
    if (state.charts[name]) state.charts[name].destroy();
    state.charts[name] = new Chart($(`chart-${name}`), config);
  }

  function perModel(series, ts, pick) {
    return series.map((s, i) => {
      const byT = new Map(s.points.map((p) => [p.t, p]));
      return {
        label: s.model,
        data: ts.map((t) => (byT.has(t) ? pick(byT.get(t)) : 0)),
        backgroundColor: PALETTE[i % PALETTE.length],
        borderColor: PALETTE[i % PALETTE.length],
      };
    });
  }

  const stacked = { responsive: true, animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } };

  function render(metric, data, granularity) {
    const series = data ? data.series : [];
    const ts = axis(series);
    const labels = ts.map((t) => labelOf(t, granularity));
    const has = ts.length > 0;
    if (metric === "requests") {
      draw(metric, { type: "bar", data: { labels, datasets: perModel(series, ts, (p) => p.value) }, options: stacked }, has);
    } else if (metric === "spend") {
      draw(metric, { type: "bar", data: { labels, datasets: perModel(series, ts, (p) => Number(p.value)) }, options: stacked }, has);
    } else if (metric === "ttft") {
      const avg = perModel(series, ts, (p) => p.value).map((d) => ({ ...d, label: `${d.label} avg`, fill: false }));
      const p95 = perModel(series, ts, (p) => p.p95 ?? null).map((d) => ({ ...d, label: `${d.label} p95`, borderDash: [4, 4], fill: false }));
      draw(metric, { type: "line", data: { labels, datasets: [...avg, ...p95] }, options: { responsive: true, animation: false, scales: { y: { beginAtZero: true } } } }, has);
    } else if (metric === "tokens") {
      const sum = (key) => ts.map((t) => series.reduce((acc, s) => acc + ((s.points.find((p) => p.t === t) || {}).value?.[key] || 0), 0));
      draw(metric, {
        type: "bar",
        data: { labels, datasets: [
          { label: "input", data: sum("input"), backgroundColor: PALETTE[0] },
          { label: "output", data: sum("output"), backgroundColor: PALETTE[1] },
        ] },
        options: stacked,
      }, has);
    }
  }

  // -- loading ---------------------------------------------------------------------------

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    return q.toString();
  }

  async function optional(path) {
    try {
      return await api(path);
    } catch (error) {
      if (error.status === 401) throw error;
      return { unavailable: error.message };
    }
  }

  async function refresh() {
    document.body.dataset.state = "loading";
    const range = RANGES[$("range").value];
    const until = new Date();
    const since = new Date(until.getTime() - range.ms);
    const scope = $("scope").value;
    const projectId = scope === "team" ? "" : scope;
    const period = { since: since.toISOString(), until: until.toISOString() };
    const metrics = ["requests", "ttft", "tokens", "spend"];
    const [credits, requests, activity, keys, byok, budgets, limits, ...observed] = await Promise.all([
      optional("/v1/credits"),
      optional(`/v1/requests?${query({ ...period, projectId, limit: 50 })}`),
      optional(`/v1/activity?${query({ ...period, projectId, limit: 50 })}`),
      optional("/v1/api-keys"),
      optional("/v1/byok"),
      optional("/v1/budgets"),
      optional("/v1/rate-limits"),
      ...metrics.map((metric) =>
        optional(`/v1/observability?${query({ metric, scope: projectId ? "project" : "team", projectId, granularity: range.granularity, ...period })}`),
      ),
    ]);
    $("balance").textContent = credits.unavailable ? "–" : usd(credits.balance);
    $("total-used").textContent = credits.unavailable ? "–" : usd(credits.total_used);
    metrics.forEach((metric, i) => {
      const data = observed[i];
      if (data.unavailable) {
        render(metric, null, range.granularity);
        document.querySelector(`.empty[data-for="${metric}"]`).textContent = `Unavailable: ${data.unavailable}`;
      } else {
        render(metric, data, range.granularity);
      }
    });
    fill("requests", requests.data || [], (r) => [
      [time(r.createdAt)], [r.model], [r.provider], [r.appTitle || r.appReferer],
      [r.inputTokens, true], [r.outputTokens, true], [usd(r.cost), true], [r.ttftMs, true], [r.status],
    ], requests.unavailable || "No requests in this range.");
    fill("activity", activity.data || [], (e) => [
      [time(e.createdAt)], [e.type], [e.actor ? `${e.actor.type} ${e.actor.id}` : ""],
      [e.target ? `${e.target.type} ${e.target.id}` : ""],
    ], activity.unavailable || "No activity in this range.");
    fill("keys", keys.data || [], (k) => [[k.name], [k.prefix], [k.projectId], [time(k.createdAt)], [k.expiresAt ? time(k.expiresAt) : "never"]],
      keys.unavailable || "No API keys.");
    fill("byok", byok.data || [], (b) => [[b.provider], [b.enabled ? "yes" : "no"], [b.hint ? `…${b.hint}` : ""],
      [b.lastTest ? `${b.lastTest.ok ? "ok" : "failed"} ${time(b.lastTest.at)}` : "never"]],
      byok.unavailable || "No BYOK credentials.");
    fill("budgets", budgets.data || [], (b) => [[b.scope], [b.id], [usd(b.amount), true], [b.period],
      [b.hard ? "hard" : "soft"], [usd(b.spent), true]], budgets.unavailable || "No budgets.");
    fill("rate-limits", limits.data || [], (l) => [[l.scope], [l.id], [l.requestsPerMinute ?? "none", true],
      [l.tokensPerMinute ?? "none", true], [l.concurrentRequests ?? "none", true]],
      limits.unavailable || "No rate limits.");
    document.body.dataset.state = "loaded";
  }

  async function loadIdentity() {
    state.me = await optional("/v1/me");
    const me = state.me;
    if (me.unavailable) {
      $("who").textContent = "";
      return;
    }
    $("who").textContent = `${me.user ? me.user.email : ""} · team ${me.team ? me.team.slug : ""} · ${me.role || ""}`;
    const scope = $("scope");
    if (me.team && scope.options.length === 1) {
      const projects = await optional(`/v1/teams/${encodeURIComponent(me.team.id)}/projects`);
      for (const project of projects.data || []) {
        const option = document.createElement("option");
        option.value = project.id;
        option.textContent = `Project ${project.name}`;
        scope.appendChild(option);
      }
    }
  }

  function show(signedIn) {
    $("sign-in").hidden = signedIn;
    $("main").hidden = !signedIn;
    $("sign-out").hidden = !signedIn;
  }

  async function start() {
    try {
      await api("/v1/models"); // any authenticated read proves the key
      sessionStorage.setItem(KEY, state.key);
      show(true);
      await loadIdentity();
      await refresh();
    } catch (error) {
      state.key = "";
      sessionStorage.removeItem(KEY);
      show(false);
      $("sign-in-error").textContent = error.status === 401 ? "That key was not accepted." : error.message;
      document.body.dataset.state = "signed-out";
    }
  }

  window.tollgate = { charts: state.charts, refresh };
  document.addEventListener("DOMContentLoaded", () => {
    $("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      state.key = $("api-key").value.trim();
      $("sign-in-error").textContent = "";
      document.body.dataset.state = "signing-in";
      start();
    });
    $("sign-out").addEventListener("click", () => {
      sessionStorage.removeItem(KEY);
      state.key = "";
      show(false);
    });
    for (const id of ["scope", "range", "refresh"]) {
      $(id).addEventListener(id === "refresh" ? "click" : "change", () => refresh().catch(console.error));
    }
    if (state.key) start();
    else {
      show(false);
      document.body.dataset.state = "signed-out";
    }
  });
})();
