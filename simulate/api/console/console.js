// The wufault console: clients and their scenarios, the live journal and
// the VM setup. It talks to the control API it was served by; the token
// comes from the page's ?access_token= (a browser cannot send a bearer
// header on an EventSource or a link).
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("access_token") || "";
  const $ = (s) => document.querySelector(s);
  const withToken = (path) => token ? path + (path.includes("?") ? "&" : "?") + "access_token=" + encodeURIComponent(token) : path;
  let catalog = [];
  const predicted = {}; // scenario name -> predicted code
  const clientScenario = {}; // client network -> scenario name

  async function api(method, path) {
    const headers = token ? { Authorization: "Bearer " + token } : {};
    const r = await fetch(path, { method, headers });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || r.statusText);
    return body;
  }

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function scenarioSelect(current) {
    const sel = document.createElement("select");
    const none = new Option("(no faults)", "");
    sel.appendChild(none);
    for (const s of catalog) sel.appendChild(new Option(s.name, s.name));
    if (current && !catalog.some((s) => s.name === current)) sel.appendChild(new Option(current, current));
    sel.value = current || "";
    return sel;
  }

  async function use(client, name) {
    if (client === "default") {
      await api(name ? "PUT" : "DELETE", name ? "/scenario?name=" + encodeURIComponent(name) : "/scenario");
    } else if (name) {
      await api("PUT", "/clients/" + encodeURIComponent(client) + "/scenario?name=" + encodeURIComponent(name));
    } else {
      await api("DELETE", "/clients/" + encodeURIComponent(client));
    }
    await refreshClients(true);
  }

  async function refreshClients(force) {
    const body = $("#clients tbody");
    if (!force && body.contains(document.activeElement)) return; // the user is choosing
    const views = await api("GET", "/clients");
    body.replaceChildren();
    for (const v of views) {
      clientScenario[v.client] = v.scenario.name;
      const tr = document.createElement("tr");
      tr.dataset.client = v.client;
      cell(tr, v.client);
      const sel = scenarioSelect(v.scenario.name);
      sel.className = "scenario";
      sel.addEventListener("change", () => use(v.client, sel.value).catch((e) => ($("#status").textContent = e.message)));
      tr.appendChild(document.createElement("td")).appendChild(sel);
      cell(tr, predicted[v.scenario.name] || "");
      cell(tr, v.scenario.faults.length);
      cell(tr, v.scenario.faults.reduce((n, f) => n + f.hits.fired, 0), "fired");
      cell(tr, v.addresses.map((a) => a.address).join(" "));
      const td = tr.appendChild(document.createElement("td"));
      if (v.client !== "default") {
        const b = document.createElement("button");
        b.textContent = "remove";
        b.addEventListener("click", () => use(v.client, ""));
        td.appendChild(b);
      }
      body.appendChild(tr);
    }
  }

  function host(client) {
    const m = /^\[?([^\]]*?)\]?:\d+$/.exec(client || "");
    return m ? m[1] : client || "";
  }

  function addEvent(e) {
    const tr = document.createElement("tr");
    tr.className = "ev-" + e.event.replace(".", "-");
    tr.dataset.seq = e.seq;
    cell(tr, new Date(e.time).toLocaleTimeString());
    cell(tr, e.event);
    cell(tr, e.event === "scenario" ? e.client || "default" : host(e.client));
    cell(tr, e.scenario || "");
    let what = e.fault || "";
    let cls;
    if (e.event === "report") {
      const p = predicted[e.scenario];
      what = e.code + (p ? " (predicted " + p + ")" : "");
      cls = p ? (p === e.code ? "ok" : "mismatch") : "";
    }
    cell(tr, what, cls);
    cell(tr, e.host);
    cell(tr, e.phase);
    cell(tr, e.detail);
    const body = $("#journal tbody");
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > 500) body.removeChild(body.lastChild);
    if (e.event === "scenario" || e.event === "fault") refreshClients(false).catch(() => {});
  }

  async function setup() {
    const [health, ca] = await Promise.all([api("GET", "/healthz"), api("GET", "/ca").catch(() => null)]);
    const proxy = (health.addrs && health.addrs.proxy) || "LAB-HOST:8080";
    const lines = [
      'netsh winhttp set proxy proxy-server="' + proxy + '" bypass-list="<local>"',
      "certutil -addstore Root wufault-lab-ca.cer",
      "Restart-Service -Force wuauserv, bits",
      "",
      "# undo",
      "netsh winhttp reset proxy",
      "certutil -delstore Root " + (ca ? ca.thumbprint : "THUMBPRINT"),
      "Restart-Service -Force wuauserv, bits",
    ];
    $("#vm-setup").textContent = lines.join("\n");
    if (ca) {
      $("#ca-download").href = withToken("/ca.cer");
      $("#ca-subject").textContent = ca.subject;
      $("#ca-thumbprint").textContent = ca.thumbprint;
    }
  }

  async function start() {
    catalog = await api("GET", "/catalog");
    for (const s of catalog) if (s.expect) predicted[s.name] = s.expect;
    const ns = $("#new-scenario");
    for (const s of catalog) ns.appendChild(new Option(s.name, s.name));
    $("#assign").addEventListener("submit", (ev) => {
      ev.preventDefault();
      $("#assign-error").textContent = "";
      use($("#new-client").value.trim(), ns.value).catch((e) => ($("#assign-error").textContent = e.message));
    });
    await refreshClients(true);
    setup().catch(() => {});
    const es = new EventSource(withToken("/events?event=fault,scenario,report,ca,error"));
    es.onopen = () => { $("#status").textContent = "live"; document.body.dataset.live = "1"; };
    es.onerror = () => { $("#status").textContent = "reconnecting…"; };
    es.onmessage = (m) => addEvent(JSON.parse(m.data));
    setInterval(() => refreshClients(false).catch(() => {}), 3000);
  }

  start().catch((e) => { $("#status").textContent = "error: " + e.message; });
})();
