/// The page the daemon serves at `/` (issue 21): one self-contained file, no CDN, no build step;
/// a phone's browser is the target. It opens the WebSocket `/ws` (beats at once, status and
/// activations at `web.update_rate`, status 4 times a second), draws the last 10 s of activation with the beats, and
/// sends the operator's commands back over the same socket. It asks for `web.token` once when
/// the daemon wants one and keeps it in the browser's local storage.
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, user-scalable=no">
<title>Tactus</title>
<style>
:root { color-scheme: dark; --fg:#e8e8e8; --dim:#8a8a8a; --bg:#111; --panel:#1c1c1c;
  --beat:#3ddc84; --late:#ffb300; --bad:#ff5252; }
* { box-sizing: border-box; }
body { margin:0; font:16px system-ui, sans-serif; background:var(--bg); color:var(--fg); }
main { max-width: 960px; margin: 0 auto; padding: 8px; display: grid; gap: 8px; }
section { background: var(--panel); border-radius: 10px; padding: 10px 12px; }
#top { display:grid; grid-template-columns: 1fr auto; align-items:center; transition: background .08s; }
#top.flash { background:#1f5133; }
#tempo { font-size: 64px; font-weight: 700; line-height: 1; font-variant-numeric: tabular-nums; }
#tempo small { font-size: 20px; color: var(--dim); font-weight: 400; }
.row { display:flex; flex-wrap:wrap; gap: 6px 16px; color: var(--dim); }
.row b { color: var(--fg); font-weight: 600; }
#dots { display:flex; gap:6px; margin-top:6px; }
#dots span { width:18px; height:18px; border-radius:50%; background:#333; }
#dots span.on { background: var(--beat); }
#dots span.one { outline: 2px solid var(--fg); }
#conf { height:8px; background:#333; border-radius:4px; overflow:hidden; margin-top:6px; }
#conf div { height:100%; width:0; background: var(--beat); }
canvas { width:100%; height:160px; display:block; background:#0b0b0b; border-radius:6px; }
#controls { display:grid; grid-template-columns: repeat(4, 1fr); gap:8px; }
button { font: inherit; padding: 14px 6px; border-radius: 8px; border: 1px solid #444; background:#262626;
  color:var(--fg); touch-action: manipulation; }
button:active { background:#3a3a3a; }
#tap { grid-column: span 4; padding: 28px; font-size: 28px; font-weight: 700; }
#range { grid-column: span 4; display:flex; gap:8px; align-items:center; }
#range input { width: 5em; font: inherit; padding: 8px; background:#000; color:var(--fg); border:1px solid #444;
  border-radius:6px; }
#ack { color: var(--dim); min-height: 1.3em; }
#health { font-size: 14px; }
.bad { color: var(--bad) !important; }
</style></head>
<body><main>
<section id="top">
  <div><div id="tempo">—<small> BPM</small></div>
    <div id="dots"></div>
    <div id="conf"><div></div></div></div>
  <div class="row" style="flex-direction:column; text-align:right">
    <span>bar <b id="bar">—</b></span><span>phrase <b id="phrase">—</b></span>
    <span id="lock">—</span><span id="gate">—</span><span id="mode">—</span></div>
</section>
<section><canvas id="chart" width="900" height="160"></canvas>
  <div class="row" style="font-size:13px"><span>activation, last 10 s</span>
  <span style="color:var(--beat)">| predicted beat</span>
  <span style="color:var(--late)">| reported beat</span><span>shaded: gate closed</span></div></section>
<section id="controls">
  <button id="tap">TAP <small>(space)</small></button>
  <button data-cmd="half">½ half</button><button data-cmd="double">2× double</button>
  <button data-cmd="nudge" data-ms="-10">−10 ms</button><button data-cmd="nudge" data-ms="10">+10 ms</button>
  <button data-cmd="hold">hold</button><button data-cmd="release">release</button>
  <button data-cmd="downbeat">downbeat</button><button data-cmd="reset">reset</button>
  <div id="range">range <input id="lo" type="number" value="80" min="20" max="400">
    – <input id="hi" type="number" value="160" min="20" max="400"> BPM
    <button id="lockrange">lock</button><button id="fullrange">full</button></div>
  <div id="ack" style="grid-column: span 4"></div>
</section>
<section id="health" class="row"></section>
</main>
<script>
"use strict";
const $ = id => document.getElementById(id);
const state = { frames: [], beats: [], now: 0, status: {}, meter: 4, ws: null };
window.tactusLatencies = [];      // ms from a beat's emission to its arrival here (tests read it)
window.tactusBeats = 0;
let token = localStorage.getItem("tactus-token") || "";
function askToken() {
  const t = prompt("This Tactus needs its web.token:");
  if (t !== null) { token = t.trim(); localStorage.setItem("tactus-token", token); }
}
function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws"
    + (token ? "?token=" + encodeURIComponent(token) : "");
  const ws = new WebSocket(url);
  state.ws = ws;
  let opened = false;
  ws.onopen = () => { opened = true; };
  ws.onmessage = m => handle(JSON.parse(m.data));
  ws.onclose = async () => {
    state.ws = null;
    if (!opened) {
      const r = await fetch("/api/status", { headers: token ? { Authorization: "Bearer " + token } : {} })
        .catch(() => null);
      if (r && r.status === 401) askToken();
    }
    setTimeout(connect, 1000);
  };
}
function handle(e) {
  if (e.event === "beat") {
    window.tactusBeats++;
    window.tactusLatencies.push(Date.now() - e.unix_emitted * 1000);
    if (window.tactusLatencies.length > 1000) window.tactusLatencies.shift();
    state.beats.push(e);
    if (state.beats.length > 200) state.beats.shift();
    const delay = Math.max(0, e.unix_beat * 1000 - Date.now());
    setTimeout(() => flash(e), delay);
  } else if (e.event === "update") {
    const a = e.a || [];
    for (let i = 0; i < a.length; i++) state.frames.push([e.t0 + i * e.dt, a[i], e.gate[i]]);
    while (state.frames.length > 1200) state.frames.shift();
    if (a.length) state.now = e.t0 + (a.length - 1) * e.dt;
    state.status = e.status || state.status;
    showStatus(state.status);
  } else if (e.event === "ack") {
    $("ack").textContent = e.message || e.result;
    $("ack").className = e.result === "applied" || e.result === "pending" ? "" : "bad";
  } else if (e.event === "notice" && e.kind !== "control" && e.kind !== "tempo") {
    $("ack").textContent = e.message;
  }
}
function flash(e) {
  $("top").classList.add("flash");
  setTimeout(() => $("top").classList.remove("flash"), 90);
  $("tempo").innerHTML = e.tempo.toFixed(1) + "<small> BPM</small>";
  const meter = e.meter || 4;
  if ($("dots").children.length !== meter) $("dots").innerHTML = "<span></span>".repeat(meter);
  [...$("dots").children].forEach((d, i) => {
    d.className = (i + 1 === e.beat_in_bar ? "on" : "") + (i === 0 ? " one" : "");
  });
  $("bar").textContent = e.bar ? e.bar + (e.bar_source === "operator" ? "" : " (counted)") : "—";
  $("phrase").textContent = e.phrase ? e.phrase + " · bar " + e.phrase_bar : "—";
}
function showStatus(s) {
  if (s.confidence !== undefined) $("conf").firstElementChild.style.width = (100 * s.confidence).toFixed(0) + "%";
  $("lock").textContent = s.locked ? "locked" : "listening";
  $("gate").textContent = s.gate ? "music" : "silence";
  $("mode").textContent = s.mode || "—";
  const sinks = Object.entries(s.output_errors_by_sink || {})
    .map(([k, v]) => `<span class="${v ? "bad" : ""}">${esc(k)} <b>${v}</b></span>`).join("");
  $("health").innerHTML = `<span>model <b>${esc(s.model || "—")}</b></span>`
    + `<span>input <b>${esc(s.device || "—")}</b> ${s.rate || ""} Hz</span>`
    + `<span class="${s.xruns ? "bad" : ""}">xruns <b>${s.xruns ?? "—"}</b></span>`
    + `<span class="${s.dropped_samples ? "bad" : ""}">dropped samples <b>${s.dropped_samples ?? "—"}</b></span>`
    + `<span>beats <b id="beats">${s.beats ?? "—"}</b></span>`
    + `<span>CPU <b>${((s.cpu_share || 0) * 100).toFixed(1)} %</b></span>`
    + `<span>up <b>${fmtTime(s.uptime_s || 0)}</b></span><span>pages <b>${s.pages ?? "—"}</b></span>` + sinks;
}
const esc = t => String(t).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const fmtTime = s => {
  s = Math.floor(s);
  return (s >= 3600 ? Math.floor(s / 3600) + " h " : "") + Math.floor(s % 3600 / 60) + " min " + s % 60 + " s";
};
function draw() {
  const c = $("chart"), g = c.getContext("2d");
  const w = c.width = c.clientWidth * devicePixelRatio, h = c.height = c.clientHeight * devicePixelRatio;
  g.clearRect(0, 0, w, h);
  const end = state.now, start = end - 10, x = t => (t - start) / 10 * w;
  g.fillStyle = "#222";
  for (const [t, , gate] of state.frames) if (!gate && t >= start) g.fillRect(x(t), 0, Math.max(1, w / 1000), h);
  for (const b of state.beats) {
    if (b.time < start || b.time > end + 1) continue;
    g.strokeStyle = b.predicted ? "#3ddc84" : "#ffb300"; g.lineWidth = b.beat_in_bar === 1 ? 3 : 1.5;
    g.beginPath(); g.moveTo(x(b.time), 0); g.lineTo(x(b.time), h); g.stroke();
  }
  g.strokeStyle = "#e8e8e8"; g.lineWidth = 1.5 * devicePixelRatio; g.beginPath();
  let first = true;
  for (const [t, a] of state.frames) {
    if (t < start) continue;
    const y = h - 4 - a * (h - 8);
    if (first) { g.moveTo(x(t), y); first = false; } else g.lineTo(x(t), y);
  }
  g.stroke();
  window.tactusDrawn = (window.tactusDrawn || 0) + (first ? 0 : 1);
  requestAnimationFrame(draw);
}
let lastId = 0;
function send(cmd) {
  cmd.id = "page-" + (++lastId);
  if (state.ws && state.ws.readyState === 1) { state.ws.send(JSON.stringify(cmd)); return; }
  fetch("/api/control", { method: "POST", body: JSON.stringify(cmd),
                          headers: token ? { Authorization: "Bearer " + token } : {} })
    .then(r => r.json()).then(handle).catch(() => { $("ack").textContent = "no daemon"; });
}
$("tap").addEventListener("pointerdown", e => { e.preventDefault(); send({ cmd: "tap" }); });
document.addEventListener("keydown", e => {
  if (e.code === "Space" && !e.repeat && e.target.tagName !== "INPUT") { e.preventDefault(); send({ cmd: "tap" }); }
});
document.querySelectorAll("button[data-cmd]").forEach(b => b.addEventListener("click", () => {
  const c = { cmd: b.dataset.cmd }; if (b.dataset.ms) c.ms = Number(b.dataset.ms); send(c);
}));
$("lockrange").addEventListener("click",
  () => send({ cmd: "range", min: Number($("lo").value), max: Number($("hi").value) }));
$("fullrange").addEventListener("click", () => send({ cmd: "range" }));
connect();
requestAnimationFrame(draw);
</script></body></html>
"""#
}
