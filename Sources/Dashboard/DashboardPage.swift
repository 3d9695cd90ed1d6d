// The dashboard page, its style sheet and its script, compiled into the binary: no CDN, no external fonts or
// scripts, no build step. The script draws the JSON of `DashboardView` and keeps it live over server-sent events.

enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Ballast</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/dashboard/app.css">
        </head>
        <body>
        <header>
          <h1>Ballast</h1>
          <label>Kafka cluster <select id="cluster" aria-label="Kafka cluster"></select></label>
          <span id="updated" class="muted" aria-live="polite">connecting…</span>
          <details id="token-box"><summary>Admin token</summary>
              <form id="token-form">
                <p class="muted">Pause, resume and cancel call the service API with this token; it is kept in this tab
                only (sessionStorage).</p>
                <input type="text" name="username" value="admin" autocomplete="username" hidden>
                <input id="token" type="password" autocomplete="off" aria-label="Admin token">
                <button type="submit">Keep for this tab</button>
              </form>
            </details>
        </header>
        <p id="problems" class="problems" role="status" hidden></p>
        <main>
          <section id="map-panel" aria-labelledby="map-title"><h2 id="map-title">Cluster map</h2>
            <p class="legend muted">
              <span class="state state-up">✓ up</span> <span class="state state-restarting">⟳ restarting</span>
              <span class="state state-catching-up">↻ catching up</span> <span class="state state-new">★ new</span>
              <span class="state state-draining">⇥ draining</span>
            </p>
            <div id="map"></div></section>
          <section id="health-panel" aria-labelledby="health-title"><h2 id="health-title">Partition health</h2>
            <div id="health"></div></section>
          <section id="ops-panel" aria-labelledby="ops-title"><h2 id="ops-title">Operations</h2>
            <p id="op-result" class="muted" role="status"></p><div id="operations"></div></section>
          <section id="apps-panel" aria-labelledby="apps-title"><h2 id="apps-title">Applications</h2>
            <div id="apps"></div></section>
          <section id="proposal-panel" aria-labelledby="proposal-title"><h2 id="proposal-title">Proposal</h2>
            <div id="proposal"><p class="muted">No proposal yet.</p></div></section>
        </main>
        <script src="/dashboard/app.js"></script>
        </body>
        </html>
        """#

    static let css = #"""
        :root { --fg: #1f2328; --muted: #57606a; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de;
          --ok: #1a7f37; --ok-bg: #dafbe1; --warn: #7d4e00; --warn-bg: #fff8c5; --info: #0550ae; --info-bg: #ddf4ff;
          --new: #6639ba; --new-bg: #fbefff; --drain: #953800; --drain-bg: #fff1e5; --bad: #a40e26; --bad-bg: #ffebe9; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
          background: var(--bg); }
        header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem;
          border-bottom: 1px solid var(--line); }
        header h1 { font-size: 1.3rem; margin: 0; }
        main { display: grid; gap: 1rem; padding: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr)); }
        section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .8rem; min-width: 0; }
        #map-panel { grid-column: 1 / -1; }
        h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
        h3 { font-size: 1rem; margin: .4rem 0; }
        .muted { color: var(--muted); }
        .problems { margin: .5rem 1rem; padding: .5rem; background: var(--bad-bg); color: var(--bad); border-radius: 6px; }
        .kclusters { display: grid; gap: .8rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 18rem), 1fr)); }
        .kcluster { border: 2px solid var(--line); border-radius: 8px; padding: .5rem; background: var(--bg); }
        .rack { margin: .3rem 0; }
        .rack h4 { margin: .2rem 0; font-size: .85rem; color: var(--muted); font-weight: 600; }
        .brokers { display: grid; gap: .4rem; grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); }
        .broker { border: 1px solid var(--line); border-left-width: 6px; border-radius: 6px; padding: .35rem .45rem;
          background: var(--bg); font-size: .85rem; }
        .broker strong { font-size: .95rem; }
        .state { display: inline-block; padding: 0 .35rem; border-radius: 4px; font-size: .8rem; font-weight: 600; }
        .state-up { color: var(--ok); background: var(--ok-bg); } .broker.state-up { border-left-color: var(--ok); }
        .state-restarting { color: var(--warn); background: var(--warn-bg); } .broker.state-restarting { border-left-color: #bf8700; border-left-style: dashed; }
        .state-catching-up { color: var(--info); background: var(--info-bg); } .broker.state-catching-up { border-left-color: var(--info); border-left-style: dotted; }
        .state-new { color: var(--new); background: var(--new-bg); } .broker.state-new { border-left-color: var(--new); border-left-style: double; }
        .state-draining { color: var(--drain); background: var(--drain-bg); } .broker.state-draining { border-left-color: var(--drain); border-left-style: double; }
        .disk { height: .45rem; background: var(--line); border-radius: 3px; overflow: hidden; margin-top: .2rem; }
        .disk > span { display: block; height: 100%; background: var(--info); }
        .tiles { display: grid; gap: .4rem; grid-template-columns: repeat(auto-fit, minmax(7rem, 1fr)); margin-bottom: .5rem; }
        .tile { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .35rem; }
        .tile b { display: block; font-size: 1.3rem; }
        .tile.bad { border-color: var(--bad); color: var(--bad); background: var(--bad-bg); }
        table { border-collapse: collapse; width: 100%; font-size: .85rem; }
        th, td { text-align: left; padding: .2rem .35rem; border-bottom: 1px solid var(--line); }
        .scroll { overflow-x: auto; max-height: 22rem; overflow-y: auto; }
        .op { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .5rem; margin-bottom: .5rem; }
        .op progress { width: 100%; height: 1rem; }
        .op .hold { color: var(--warn); background: var(--warn-bg); padding: .1rem .3rem; border-radius: 4px; }
        .op ol { margin: .3rem 0; padding-left: 2.2rem; max-height: 12rem; overflow-y: auto; font-size: .85rem; }
        .tl-hold { color: var(--warn); } .tl-failed { color: var(--bad); font-weight: 600; } .tl-done { color: var(--ok); }
        button { font: inherit; padding: .2rem .6rem; border-radius: 6px; border: 1px solid var(--muted); background: var(--bg); cursor: pointer; }
        button:focus-visible, select:focus-visible, input:focus-visible { outline: 3px solid var(--info); outline-offset: 1px; }
        svg text { font-size: 11px; fill: var(--fg); }
        .totals { display: flex; flex-wrap: wrap; gap: .3rem 1rem; font-size: .9rem; }
        .bars { display: grid; gap: .25rem; }
        .bar-row { display: grid; grid-template-columns: 4.5rem 1fr; gap: .4rem; align-items: center; font-size: .8rem; }
        .bar { height: .55rem; border-radius: 3px; }
        .bar.before { background: #8c959f; } .bar.after { background: var(--info); margin-top: 2px; }
        @media (max-width: 40rem) { main { padding: .5rem; gap: .5rem; } header { padding: .5rem; } }
        """#

    static let javaScript = #"""
        "use strict";
        const SYMBOL = { "up": "✓", "restarting": "⟳", "catching-up": "↻", "new": "★", "draining": "⇥" };
        let current = null, source = null;

        function el(tag, attrs, ...children) {
          const e = document.createElement(tag);
          for (const [k, v] of Object.entries(attrs || {})) {
            if (v === undefined || v === null) continue;
            if (k === "class") e.className = v; else e.setAttribute(k, v);
          }
          for (const c of children.flat(Infinity)) {
            if (c === null || c === undefined) continue;
            e.append(c instanceof Node ? c : document.createTextNode(String(c)));
          }
          return e;
        }
        function svg(tag, attrs, ...children) {
          const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
          for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
          for (const c of children.flat(Infinity)) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
          return e;
        }
        function bytes(n) {
          if (n === undefined || n === null) return "?";
          const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
          while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
          return n.toFixed(n < 10 && i > 0 ? 1 : 0) + " " + u[i];
        }
        function time(ms) { return ms ? new Date(ms).toLocaleTimeString() : ""; }
        function replace(id, ...nodes) { document.getElementById(id).replaceChildren(...nodes.flat()); }

        function renderMap(view) {
          const clusters = view.kubernetesClusters.map(k => el("div", { class: "kcluster", "data-kcluster": k.name },
            el("h3", {}, "Kubernetes cluster ", k.name),
            k.racks.map(r => el("div", { class: "rack" }, el("h4", {}, "rack ", r.name),
              el("div", { class: "brokers" }, r.brokers.map(b => {
                const pct = b.diskCapacityBytes ? Math.min(100, 100 * b.diskUsedBytes / b.diskCapacityBytes) : null;
                return el("div", { class: "broker state-" + b.state, "data-broker": b.id, "data-state": b.state },
                  el("strong", {}, "Broker ", b.id), b.isController ? el("span", { class: "muted" }, " · controller") : null,
                  el("div", {}, el("span", { class: "state state-" + b.state }, SYMBOL[b.state] + " " + b.state.replace("-", " "))),
                  el("div", {}, b.leaders, " leaders · ", b.replicas, " replicas"),
                  b.outOfSync ? el("div", {}, b.outOfSync, " out of sync") : null,
                  el("div", { class: "muted" }, "disk ", bytes(b.diskUsedBytes),
                    b.diskCapacityBytes ? " of " + bytes(b.diskCapacityBytes) : ""),
                  pct === null ? null : el("div", { class: "disk", role: "meter", "aria-label": "disk use of broker " + b.id,
                    "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": pct.toFixed(1) },
                    el("span", { style: "width:" + pct.toFixed(1) + "%" })));
              }))))));
          replace("map", el("p", { class: "muted", id: "broker-count" }, view.kubernetesClusters.reduce((n, k) =>
            n + k.racks.reduce((m, r) => m + r.brokers.length, 0), 0), " brokers in ", view.kubernetesClusters.length,
            " Kubernetes clusters"), el("div", { class: "kclusters" }, clusters));
        }

        function renderHealth(h) {
          const tile = (label, n) => el("div", { class: "tile" + (n > 0 ? " bad" : "") }, el("b", {}, n), label);
          const worst = h.worst.length === 0 ? el("p", { class: "muted" }, "Every partition is healthy.") :
            el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ["partition", "problem", "leader",
              "replicas", "ISR", "min ISR"].map(t => el("th", {}, t)))),
              el("tbody", {}, h.worst.map(p => el("tr", {}, el("td", {}, p.topic, "-", p.partition), el("td", {}, p.problem),
                el("td", {}, p.leader < 0 ? "none" : p.leader), el("td", {}, p.replicas.join(",")), el("td", {}, p.isr.join(",")),
                el("td", {}, p.minIsr))))));
          replace("health", el("div", { class: "tiles" }, tile("offline", h.offline), tile("under min ISR", h.underMinIsr),
            tile("under-replicated", h.underReplicated), tile("off preferred leader", h.offPreferredLeader),
            el("div", { class: "tile" }, el("b", {}, h.partitions), "partitions")), worst);
        }

        async function act(id, action) {
          const token = sessionStorage.getItem("ballast-admin-token");
          const out = document.getElementById("op-result");
          if (!token) { out.textContent = "Paste an admin token first (Admin token, above)."; return; }
          try {
            const r = await fetch("/v1/operations/" + encodeURIComponent(id) + "/" + action,
              { method: "POST", headers: { "Authorization": "Bearer " + token } });
            const text = await r.text();
            out.textContent = action + " " + id + ": " + r.status + " " + text.slice(0, 200);
          } catch (e) { out.textContent = action + " " + id + " failed: " + e; }
        }

        function renderOperations(ops) {
          if (ops.length === 0) { replace("operations", el("p", { class: "muted" }, "No operation yet.")); return; }
          replace("operations", ops.map(o => el("article", { class: "op", "data-op": o.id, "data-op-state": o.state },
            el("h3", {}, o.kind, " ", el("span", { class: "muted" }, o.id)),
            el("div", {}, "state ", el("b", {}, o.state), o.trigger ? " · from " + o.trigger : "",
              o.startedAtMs ? " · started " + time(o.startedAtMs) : ""),
            o.total > 0 ? el("div", {}, el("progress", { max: o.total, value: o.done, "aria-label": "progress of " + o.id }),
              " ", o.done, " of ", o.total) : null,
            o.holdReason ? el("div", {}, el("span", { class: "hold" }, "⏸ waiting: ", o.holdReason)) : null,
            ["pending", "running", "paused"].includes(o.state) ? el("div", {},
              ["pause", "resume", "cancel"].map(a => { const b = el("button", { type: "button" }, a);
                b.addEventListener("click", () => act(o.id, a)); return [b, " "]; })) : null,
            el("ol", { class: "timeline" }, o.timeline.map(t => el("li", { class: "tl-entry tl-" + t.kind },
              t.atMs ? el("span", { class: "muted" }, time(t.atMs), " ") : null, t.text))))));
        }

        function renderApps(a) {
          const pts = a.points, W = 600, H = 180, L = 44, B = 22;
          const max = Math.max(1, ...pts.map(p => Math.max(p.produced, p.consumed, p.produceErrors, p.consumeErrors)));
          const t0 = pts.length ? pts[0].timeMs : 0, t1 = pts.length ? pts[pts.length - 1].timeMs : 1;
          const x = t => L + (W - L - 8) * (t1 === t0 ? 1 : (t - t0) / (t1 - t0));
          const y = v => H - B - (H - B - 8) * v / max;
          const line = (key, color, dash) => svg("polyline", { fill: "none", stroke: color, "stroke-width": 2,
            "stroke-dasharray": dash, points: pts.map(p => x(p.timeMs).toFixed(1) + "," + y(p[key]).toFixed(1)).join(" ") });
          const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, width: "100%", role: "img",
              "aria-label": "produce and consume rates, messages per second" },
            svg("line", { x1: L, y1: H - B, x2: W, y2: H - B, stroke: "#57606a" }),
            svg("line", { x1: L, y1: 8, x2: L, y2: H - B, stroke: "#57606a" }),
            svg("text", { x: 2, y: 14 }, Math.round(max) + "/s"), svg("text", { x: 2, y: H - B }, "0"),
            svg("text", { x: L, y: H - 4 }, time(t0)), svg("text", { x: W - 70, y: H - 4 }, time(t1)),
            line("produced", "#0550ae", ""), line("consumed", "#1a7f37", "6 3"),
            line("produceErrors", "#a40e26", "2 2"), line("consumeErrors", "#953800", "1 3"));
          const t = a.totals;
          replace("apps", chart,
            el("p", { class: "muted" }, "— produced (blue, solid) · – – consumed (green, dashed) · ··· errors (red/brown, dotted), messages/s"),
            el("div", { class: "totals" }, el("span", {}, "sent ", el("b", {}, t.sent)), el("span", {}, "acknowledged ", el("b", {}, t.acknowledged)),
              el("span", {}, "failed deliveries ", el("b", { id: "failed-deliveries" }, t.failed)),
              el("span", {}, "consumed ", el("b", {}, t.consumed)), el("span", {}, "not yet consumed ", el("b", {}, t.unconfirmed)),
              el("span", {}, "duplicates ", el("b", {}, t.duplicates)), el("span", {}, "consumer errors ", el("b", {}, t.consumeErrors)),
              el("span", {}, "group rebalances ", el("b", {}, t.rebalances))));
        }

        function renderProposal(p) {
          if (!p) { replace("proposal", el("p", { class: "muted" }, "No proposal yet.")); return; }
          const max = Math.max(1, ...p.brokers.map(b => Math.max(b.replicasBefore, b.replicasAfter)));
          replace("proposal", el("p", {}, p.mode, " · ", p.moves.length, " moves · ", p.dataToMoveMiB.toFixed(1), " MiB, of which ",
              p.crossClusterDataMiB.toFixed(1), " MiB across Kubernetes clusters", p.hash ? el("span", { class: "muted" }, " · hash " + p.hash.slice(0, 12)) : null),
            el("p", { class: "muted" }, "Replicas per broker: grey before, blue after."),
            el("div", { class: "bars" }, p.brokers.map(b => el("div", { class: "bar-row" }, el("span", {}, "broker ", b.broker),
              el("div", { "aria-label": "broker " + b.broker + ": " + b.replicasBefore + " replicas before, " + b.replicasAfter + " after" },
                el("div", { class: "bar before", style: "width:" + (100 * b.replicasBefore / max) + "%" }),
                el("div", { class: "bar after", style: "width:" + (100 * b.replicasAfter / max) + "%" }))))),
            el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ["partition", "from", "to", "MiB", "cross-cluster"].map(t => el("th", {}, t)))),
              el("tbody", {}, p.moves.map(m => el("tr", {}, el("td", {}, m.topic, "-", m.partition), el("td", {}, m.oldReplicas.join(",")),
                el("td", {}, m.newReplicas.join(",")), el("td", {}, m.dataMiB.toFixed(1)), el("td", {}, m.crossCluster ? "yes" : "no")))))));
        }

        function render(view) {
          document.getElementById("updated").textContent = "updated " + time(view.generatedAtMs);
          const problems = document.getElementById("problems");
          problems.hidden = view.problems.length === 0; problems.textContent = view.problems.join(" · ");
          renderMap(view); renderHealth(view.health); renderOperations(view.operations);
          renderApps(view.applications); renderProposal(view.proposal);
        }

        // Server-sent events by default; `?poll` asks for the view once a second instead (for a proxy that buffers
        // event streams, and for headless browsers whose virtual time stops at an open stream).
        const polling = new URLSearchParams(location.search).has("poll");
        let timer = null;
        function connect(name) {
          current = name; if (source) source.close(); if (timer) clearTimeout(timer);
          const url = "/dashboard/api/clusters/" + encodeURIComponent(name);
          const once = () => fetch(url).then(r => r.json()).then(v => { if (v.cluster === current) render(v); })
            .catch(e => { const p = document.getElementById("problems"); p.hidden = false; p.textContent = String(e); });
          if (polling) {
            const poll = () => once().finally(() => { if (current === name) timer = setTimeout(poll, 1000); });
            poll(); return;
          }
          once();
          source = new EventSource(url + "/events");
          source.onmessage = e => render(JSON.parse(e.data));
          source.addEventListener("problem", e => {
            const p = document.getElementById("problems"); p.hidden = false; p.textContent = e.data; });
        }

        async function start() {
          const token = document.getElementById("token");
          token.value = sessionStorage.getItem("ballast-admin-token") || "";
          document.getElementById("token-form").addEventListener("submit", e => {
            e.preventDefault(); sessionStorage.setItem("ballast-admin-token", token.value.trim()); });
          const { clusters } = await (await fetch("/dashboard/api/clusters")).json();
          const select = document.getElementById("cluster");
          select.replaceChildren(...clusters.map(c => el("option", { value: c }, c)));
          select.addEventListener("change", () => connect(select.value));
          const wanted = decodeURIComponent(location.hash.slice(1));
          if (clusters.length) { select.value = clusters.includes(wanted) ? wanted : clusters[0]; connect(select.value); }
          else document.getElementById("updated").textContent = "no Kafka cluster configured";
        }
        start();
        """#
}
