// The Toxics panel: when the server runs with `serve --toxic`, its web port answers toxiproxy's API
// under /toxiproxy (docs/proxy.md), and this panel lists each front proxy with an enabled toggle
// and its toxics with a slider and a number for each attribute and for the toxicity. A change is
// sent to the API and the panel then shows what the server answered, never what was asked (a
// refused value snaps back, with the server's one-line reason). Without toxics the API is 404 and
// the panel stays hidden.
"use strict";

(() => {
  const panel = document.getElementById("toxics"), list = document.getElementById("toxics-list");
  const error = document.getElementById("toxics-error");
  if (!panel) return;
  const api = "/toxiproxy/proxies";
  // A slider's end for each attribute (the number beside it takes any value the server accepts).
  const sliderMax = { latency: 2000, jitter: 1000, rate: 1000, timeout: 10000, delay: 5000, average_size: 1000, size_variation: 500, bytes: 100000 };
  const units = { latency: "ms", jitter: "ms", rate: "KB/s", timeout: "ms", bytes: "B", average_size: "B", size_variation: "B" };
  let busy = 0;

  const say = text => { error.textContent = text || ""; error.hidden = !text; };

  // One line from an answer: toxiproxy's {"error": …}, or the status.
  const reason = async response => {
    try { const body = await response.json(); if (body && body.error) return `${response.status}: ${body.error}`; } catch { /* not JSON */ }
    return `${response.status} ${response.statusText}`;
  };

  const send = async (path, body) => {
    busy++;
    try {
      const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      say(response.ok ? "" : await reason(response));
    } catch (e) {
      say(`the server did not answer (${e.message})`);
    } finally {
      busy--;
      await refresh(true);
    }
  };

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // A slider and a number kept in step; `commit` gets the value when the user lets go or presses Enter.
  const control = (label, name, value, max, step, commit) => {
    const row = el("label", "toxic-attr");
    row.append(el("span", "toxic-attr-name", label));
    const range = el("input"), number = el("input");
    range.type = "range"; range.min = "0"; range.max = String(Math.max(max, value)); range.step = String(step); range.value = String(value);
    number.type = "number"; number.min = "0"; number.step = String(step); number.value = String(value);
    range.dataset.attr = number.dataset.attr = name;
    range.setAttribute("aria-label", label);
    number.setAttribute("aria-label", `${label} value`);
    range.addEventListener("input", () => { number.value = range.value; });
    range.addEventListener("change", () => commit(Number(range.value)));
    number.addEventListener("change", () => commit(Number(number.value)));
    row.append(range, number);
    return row;
  };

  const toxicView = (proxy, toxic) => {
    const item = el("li", "toxic");
    item.dataset.toxic = toxic.name;
    const head = el("div", "toxic-head");
    head.append(el("strong", "", toxic.type), el("span", "toxic-stream", toxic.stream), el("span", "muted", toxic.name));
    item.append(head);
    const path = `${api}/${encodeURIComponent(proxy.name)}/toxics/${encodeURIComponent(toxic.name)}`;
    for (const [name, value] of Object.entries(toxic.attributes)) {
      const unit = toxic.type === "slicer" && name === "delay" ? "µs" : (units[name] || (name === "delay" ? "ms" : ""));
      item.append(control(unit ? `${name} (${unit})` : name, name, value, sliderMax[name] || 1000, 1,
        v => send(path, { attributes: { [name]: v } })));
    }
    item.append(control("toxicity", "toxicity", toxic.toxicity, 1, 0.05, v => send(path, { toxicity: v })));
    return item;
  };

  const proxyView = proxy => {
    const box = el("div", "toxic-proxy");
    box.dataset.proxy = proxy.name;
    const head = el("div", "toxic-proxy-head");
    const toggle = el("label", "toxic-toggle");
    const enabled = el("input");
    enabled.type = "checkbox"; enabled.checked = proxy.enabled; enabled.className = "toxic-enabled";
    enabled.addEventListener("change", () => send(`${api}/${encodeURIComponent(proxy.name)}`, { enabled: enabled.checked }));
    toggle.append(enabled, el("span", "", "enabled"));
    head.append(el("strong", "", proxy.name), el("span", "muted", `${proxy.listen} → ${proxy.upstream}`), toggle);
    box.append(head);
    const toxics = el("ul", "toxic-list");
    if (proxy.toxics.length === 0) toxics.append(el("li", "muted", "no toxics"));
    for (const toxic of proxy.toxics) toxics.append(toxicView(proxy, toxic));
    box.append(toxics);
    return box;
  };

  // After a change (force): what the server now says. On the 5 s poll: not while the user holds a
  // slider or types a number, nor while a change is on its way.
  async function refresh(force) {
    if (busy > 0 || (!force && document.activeElement && list.contains(document.activeElement) && document.activeElement.type !== "checkbox")) return;
    let response;
    try {
      response = await fetch(api, { headers: { Accept: "application/json" } });
    } catch {
      return; // the server is away; the page's status says so
    }
    // No toxics: a reload cannot add them, so the page stops asking.
    if (response.status === 404) { panel.hidden = true; clearInterval(poll); return; }
    panel.hidden = false;
    if (!response.ok) { say(await reason(response)); return; }
    const proxies = await response.json();
    list.replaceChildren(...Object.values(proxies).map(proxyView));
    panel.dataset.state = "ready";
  }

  const poll = setInterval(refresh, 5000);
  refresh();
})();
