// The Shout page: a conversation over the /ws WebSocket (reconnecting on its own) and the live
// view fed by /live (server-sent events, one frame per second; EventSource reconnects by itself).
"use strict";

const $ = id => document.getElementById(id);
const scheme = location.protocol === "https:" ? "wss" : "ws";
const wsUrl = `${scheme}://${location.host}/ws`;

// ---- Conversation -------------------------------------------------------------------------

const messages = $("messages"), input = $("input"), send = $("send"), statusEl = $("status"), statusText = $("status-text");
let socket = null, retryDelay = 500, retryTimer = null;
$("ws-address").textContent = wsUrl;

function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusText.textContent = text;
  send.disabled = state !== "open";
}

function addMessage(kind, text) {
  $("empty")?.remove();
  const item = document.createElement("li");
  item.className = `msg ${kind}`;
  if (kind !== "note") {
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = kind === "you" ? "you" : "server";
    item.append(who);
  }
  item.append(document.createTextNode(text));
  messages.append(item);
  while (messages.children.length > 200) messages.firstElementChild.remove();
  messages.scrollTop = messages.scrollHeight;
}

function connect() {
  clearTimeout(retryTimer);
  setStatus("connecting", "Connecting…");
  const ws = new WebSocket(wsUrl);
  ws.binaryType = "arraybuffer";
  socket = ws;
  ws.onopen = () => {
    retryDelay = 500;
    setStatus("open", "Connected");
    addMessage("note", "connected to " + wsUrl);
  };
  ws.onmessage = event => {
    const text = typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data);
    addMessage("server", text);
  };
  ws.onclose = event => {
    if (socket !== ws) return;
    const why = event.reason ? `${event.code} ${event.reason}` : `code ${event.code}`;
    const seconds = (retryDelay / 1000).toFixed(retryDelay < 1000 ? 1 : 0);
    setStatus("closed", `Disconnected · retrying in ${seconds}s`);
    addMessage("note", `connection closed (${why}); reconnecting`);
    retryTimer = setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 8000);
  };
}

$("composer").addEventListener("submit", event => {
  event.preventDefault();
  const text = input.value;
  if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
  addMessage("you", text);
  socket.send(text);
  input.value = "";
  input.focus();
});

// Reconnect at once when the tab comes back or the network returns, instead of waiting out the backoff.
for (const [target, name] of [[window, "online"], [document, "visibilitychange"]]) {
  target.addEventListener(name, () => {
    if (!document.hidden && socket && socket.readyState === WebSocket.CLOSED) { retryDelay = 500; connect(); }
  });
}

connect();

// ---- Live view ----------------------------------------------------------------------------

const number = v => v >= 100 ? Math.round(v).toLocaleString("en") : v >= 10 ? v.toFixed(0) : v > 0 ? v.toFixed(1) : "0";
const bytes = v => {
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
};
const clock = ms => new Date(ms).toLocaleTimeString("en-GB", { hour12: false });

// Tick labels: whole numbers as such ("80,000"), bytes in decimal units ("2.5 MB").
const tick = v => Number.isInteger(v) ? v.toLocaleString("en") : number(v);
const messagesChart = new LineChart($("chart-messages"), [
  { key: "messages", color: "--msg", axis: "left" },
  { key: "active", color: "--conn", axis: "right", fill: false },
], { format: tick, formatRight: tick, integerLeft: true, integerRight: true, titleLeft: "messages/s", titleRight: "open connections" });
const bytesChart = new LineChart($("chart-bytes"), [
  { key: "bytesIn", color: "--in" },
  { key: "bytesOut", color: "--out", fill: false, dash: [6, 4] },
], { format: v => bytes(v) + "/s", integerLeft: true, titleLeft: "bytes/s (in, out)" });

// While /live is down the figures are the last ones seen: say so instead of showing them as current.
function setStale(stale) {
  document.querySelector(".live").dataset.stale = stale;
  messagesChart.setStale(stale);
  bytesChart.setStale(stale);
}

function showFrame(frame) {
  const s = frame.sample;
  $("active-total").textContent = s.active;
  $("rate-accepted").textContent = number(s.accepted);
  $("rate-closed").textContent = number(s.closed);
  $("rate-messages").textContent = number(s.messages);
  $("rate-in").textContent = bytes(s.bytesIn);

  const chips = $("transports");
  chips.replaceChildren(...frame.transports.map(t => {
    const li = document.createElement("li");
    li.dataset.transport = t.name;
    li.dataset.active = t.active;
    li.title = `${t.accepted} accepted, ${t.closed} closed, ${t.rejected} rejected`;
    li.append(t.name);
    const b = document.createElement("b");
    b.textContent = t.active;
    li.append(b);
    return li;
  }));

  const body = $("tcp-states").tBodies[0];
  if (!frame.tcpStates) {
    body.innerHTML = `<tr><td colspan="4" class="muted">not available on this system</td></tr>`;
  } else {
    body.replaceChildren(...frame.tcpStates.map(st => {
      const tr = document.createElement("tr");
      tr.dataset.state = st.state;
      tr.className = st.server + st.web + st.clients === 0 ? "zero" : st.state === "TIME_WAIT" || st.state === "CLOSE_WAIT" ? "hot" : "";
      for (const v of [st.state, st.server, st.web, st.clients]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }));
  }

  const events = $("events");
  if (frame.events.length) {
    events.replaceChildren(...frame.events.slice().reverse().map(e => {
      const li = document.createElement("li");
      li.className = e.kind;
      const what = e.kind === "opened" ? `${e.remote} connected`
        : e.kind === "rejected" ? `${e.remote} refused (${e.reason})`
        : `${e.remote} closed by ${e.closedBy} (${e.reason})`;
      const detail = e.kind === "closed" ? `${bytes(e.bytesIn)} in · ${bytes(e.bytesOut)} out · ${duration(e.durationMs)}` : "";
      li.innerHTML = `<span class="t"></span><span class="tr"></span><span class="what"></span>`;
      li.children[0].textContent = clock(e.time);
      li.children[1].textContent = e.transport;
      li.children[2].textContent = what;
      if (detail) {
        const small = document.createElement("small");
        small.textContent = detail;
        li.children[2].append(small);
      }
      return li;
    }));
  }

  showBus(frame.bus);
  $("endpoints").textContent = frame.endpoints.join("  ·  ");
  TraceDiagram.show(frame.trace, $("trace-status"), $("trace-diagrams"));
}

// Room mode: is this instance linked to the others? An operator must not have to guess.
function showBus(bus) {
  const line = $("bus");
  line.hidden = !bus;
  if (!bus) return;
  line.dataset.state = bus.state;
  line.textContent = bus.state === "connected" ? `bus: connected to ${bus.server} since ${clock(bus.since)}`
    : bus.state === "lost" ? `bus: lost ${bus.server} since ${clock(bus.since)} · instances not linked, reconnecting`
    : bus.state === "connecting" ? `bus: not connected to ${bus.server} since ${clock(bus.since)} · instances not linked, retrying`
    : "bus: none (one instance, --bus not set)";
}

function duration(ms) {
  return ms < 1000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60000)} min ${Math.round(ms % 60000 / 1000)} s`;
}

let lastFrame = 0;

function watch() {
  const live = new EventSource("/live");
  const badge = $("live-status");
  live.addEventListener("history", event => {
    const history = JSON.parse(event.data);
    messagesChart.setPoints(history);
    bytesChart.setPoints(history.slice());
  });
  live.onmessage = event => {
    const frame = JSON.parse(event.data);
    lastFrame = Date.now();
    badge.dataset.state = "open";
    badge.textContent = "live";
    setStale(false);
    messagesChart.push(frame.sample);
    bytesChart.push(frame.sample);
    showFrame(frame);
  };
  live.onerror = () => {
    badge.dataset.state = "closed";
    badge.textContent = lastFrame ? `stale since ${clock(lastFrame)} · reconnecting` : "reconnecting";
    setStale(true);
  };
}

watch();
