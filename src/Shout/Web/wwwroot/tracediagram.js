// The page's wire trace: each connection as the tutorial's sequence diagram (section 2.5), client
// and server lifelines with one arrow per packet, the flags and relative numbers on the arrow and
// the state each side enters beside its lifeline. Drawn in SVG from the /live frame's "trace".
"use strict";

const TraceDiagram = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const width = 640, left = 150, right = 490, top = 44, step = 40;

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function label(p) {
    if (p.flags === "UDP") return "datagram";
    let text = p.flags;
    if (p.seq) text += ` seq=${p.seq}`;
    if (p.ack) text += ` ack=${p.ack}`;
    return text;
  }

  // A silence on the wire this long (ms) is written beside the arrow that ends it, as shout trace draws it.
  const gapShown = 10;

  function detail(p) {
    const marks = `${p.retransmission ? " · retransmission" : ""}${p.zeroWindow ? " · zero window" : ""}`;
    if (!p.length) return marks.slice(3);
    const preview = p.preview == null ? "" : p.preview.startsWith("TLS") ? ` [${p.preview}]` : ` "${p.preview}"`;
    return `${p.length} B${preview}${marks}`;
  }

  function summary(c) {
    const s = c.summary;
    if (!s) return c.kind === "udp" ? "datagrams: no connection, no handshake, no close" : "open";
    const parts = [s.resetBy ? `reset by the ${s.resetBy}` : s.closedFirst ? `the ${s.closedFirst} closed first` : "closed"];
    if (s.timeWait) parts.push(`${s.timeWait} in TIME_WAIT`);
    if (s.handshakeRttMs != null) parts.push(`handshake ${s.handshakeRttMs.toFixed(3)} ms`);
    parts.push(`client→server ${s.bytesClientToServer} B · server→client ${s.bytesServerToClient} B`);
    if (s.retransmissions) parts.push(`${s.retransmissions} retransmitted`);
    return parts.join(" · ");
  }

  function draw(c) {
    const figure = document.createElement("figure");
    figure.className = "seq";
    figure.dataset.connection = c.number;
    figure.dataset.kind = c.kind;
    figure.dataset.ended = c.summary ? "true" : "false";
    const caption = document.createElement("figcaption");
    const title = document.createElement("b");
    title.textContent = `#${c.number} ${c.kind} ${c.client} ⇄ ${c.server}`;
    const small = document.createElement("small");
    small.className = "summary";
    small.textContent = summary(c);
    caption.append(title, small);

    const height = top + step * c.packets.length + 24 + (c.more ? 18 : 0);
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img",
      "aria-label": `packets of connection ${c.number} between ${c.client} and ${c.server}` });
    const marker = `arrow-${c.number}`;
    const defs = el("defs", {});
    const head = el("marker", { id: marker, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    head.append(el("path", { d: "M0,0 L10,5 L0,10 z", class: "head" }));
    defs.append(head);
    svg.append(defs);
    svg.append(el("text", { x: left, y: 16, class: "side", "text-anchor": "middle" }, "client"));
    svg.append(el("text", { x: right, y: 16, class: "side", "text-anchor": "middle" }, "server"));
    for (const x of [left, right]) svg.append(el("line", { x1: x, y1: 24, x2: x, y2: height - 6, class: "lifeline" }));

    c.packets.forEach((p, i) => {
      const y = top + step * i + 12;
      const fromClient = p.from === "client";
      const g = el("g", { class: `pkt ${p.from}${p.flags.includes("RST") ? " rst" : ""}${p.zeroWindow ? " zero-window" : ""}`,
        "data-from": p.from, "data-flags": p.flags });
      if (p.gapMs >= gapShown) g.append(el("text", { x: 8, y: y + 2, class: "gap", "data-gap-ms": p.gapMs.toFixed(1) }, `⋮ ${p.gapMs.toFixed(1)} ms`));
      const [x1, x2] = fromClient ? [left, right] : [right, left];
      g.append(el("line", { x1, y1: y, x2: x2 + (fromClient ? -2 : 2), y2: y + 10, "marker-end": `url(#${marker})` }));
      g.append(el("text", { x: (left + right) / 2, y: y - 3, class: "flags", "text-anchor": "middle" }, label(p)));
      const more = detail(p);
      if (more) g.append(el("text", { x: (left + right) / 2, y: y + 19, class: "data", "text-anchor": "middle" }, more));
      if (p.clientState) g.append(el("text", { x: left - 8, y: y + 14, class: "state", "text-anchor": "end", "data-side": "client" }, p.clientState));
      if (p.serverState) g.append(el("text", { x: right + 8, y: y + 14, class: "state", "text-anchor": "start", "data-side": "server" }, p.serverState));
      svg.append(g);
    });
    if (c.more) svg.append(el("text", { x: (left + right) / 2, y: height - 8, class: "data", "text-anchor": "middle" }, `… ${c.more} more packets`));
    figure.append(caption, svg);
    return figure;
  }

  function show(trace, statusEl, listEl) {
    if (!trace) return;
    statusEl.dataset.state = trace.state;
    statusEl.textContent = trace.message;
    const key = JSON.stringify(trace.connections);
    if (listEl.dataset.key === key) return;
    listEl.dataset.key = key;
    listEl.replaceChildren(...trace.connections.map(draw));
  }

  return { show, draw };
})();
