// The Toxics panel: toxiproxy's API is served under /toxiproxy on the web port when the server runs
// with `serve --toxic`, and at /proxies on `shout proxy`'s own API port, whose page sets the panel's
// data-api (docs/proxy.md). The panel lists each proxy with an enabled toggle, its toxics with a
// slider and a number for each attribute and for the toxicity and a delete button, and a form to add
// a toxic. A change is sent to the API and the panel then shows what the server answered, never what
// was asked (a refused value snaps back, with the server's one-line reason). Without toxics the API is
// 404 and the panel stays hidden.
"use strict";

(() => {
  const panel = document.getElementById("toxics"), list = document.getElementById("toxics-list");
  const error = document.getElementById("toxics-error");
  if (!panel) return;
  const api = panel.dataset.api || "/toxiproxy/proxies";
  // The types the API knows and each attribute's default, as src/Shout/Toxics/ToxicTypes.cs says
  // (a unit test keeps the two the same); the server checks every value.
  const toxicTypes = {"latency":{"latency":0,"jitter":0},"bandwidth":{"rate":0},"slicer":{"average_size":1,"size_variation":0,"delay":0},"timeout":{"timeout":0},"reset_peer":{"timeout":0},"limit_data":{"bytes":0},"slow_close":{"delay":0},"loss":{},"duplicate":{},"reorder":{"delay":10}};
  // Which of them a udp proxy takes (the datagram ones only there), as ToxicTypes.Refuses says.
  const datagramOnly = ["loss", "duplicate", "reorder"];
  const onDatagrams = ["latency", "bandwidth", "timeout", "loss", "duplicate", "reorder"];
  // What the user typed in each proxy's add form, kept across the panel's refreshes.
  const drafts = new Map();
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

  // Sends a change; then shows what the server has, unless keepOnError and it was refused (the add
  // form keeps what was typed, since nothing changed). True when the server took it.
  const send = async (path, body, method = "POST", keepOnError = false) => {
    busy++;
    let ok = false;
    try {
      const init = { method, headers: {} };
      if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
      const response = await fetch(path, init);
      ok = response.ok;
      say(ok ? "" : await reason(response));
    } catch (e) {
      say(`the server did not answer (${e.message})`);
    } finally {
      busy--;
      if (ok || !keepOnError) await refresh(true);
    }
    return ok;
  };

  // A typed value as the API takes it: a number when it is one, else the text itself, which the
  // server refuses in one line (a typo never becomes 0).
  const typed = text => { const t = text.trim(); return t !== "" && Number.isFinite(Number(t)) ? Number(t) : t; };

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
    number.addEventListener("change", () => commit(typed(number.value))); // emptied: refused, never 0
    row.append(range, number);
    return row;
  };

  const toxicView = (proxy, toxic) => {
    const item = el("li", "toxic");
    item.dataset.toxic = toxic.name;
    const head = el("div", "toxic-head");
    const path = `${api}/${encodeURIComponent(proxy.name)}/toxics/${encodeURIComponent(toxic.name)}`;
    const remove = el("button", "toxic-delete", "delete");
    remove.type = "button";
    remove.setAttribute("aria-label", `delete ${toxic.name}`);
    remove.addEventListener("click", () => send(path, undefined, "DELETE"));
    head.append(el("strong", "", toxic.type), el("span", "toxic-stream", toxic.stream), el("span", "muted", toxic.name), remove);
    item.append(head);
    for (const [name, value] of Object.entries(toxic.attributes)) {
      const unit = toxic.type === "slicer" && name === "delay" ? "µs" : (units[name] || (name === "delay" ? "ms" : ""));
      item.append(control(unit ? `${name} (${unit})` : name, name, value, sliderMax[name] || 1000, 1,
        v => send(path, { attributes: { [name]: v } })));
    }
    item.append(control("toxicity", "toxicity", toxic.toxicity, 1, 0.05, v => send(path, { toxicity: v })));
    return item;
  };

  // The form that adds a toxic to a proxy: type (those the proxy's kind takes), stream, name
  // (toxiproxy's TYPE_STREAM when empty), toxicity and the type's attributes, starting at their defaults.
  const addForm = proxy => {
    const datagram = proxy.listen.startsWith("udp://");
    const types = Object.keys(toxicTypes).filter(t => datagram ? onDatagrams.includes(t) : !datagramOnly.includes(t));
    const draft = drafts.get(proxy.name) || { open: false, type: types[0], stream: "downstream", name: "", toxicity: "1", attributes: {} };
    drafts.set(proxy.name, draft);
    const box = el("details", "toxic-add");
    box.open = draft.open;
    box.addEventListener("toggle", () => { draft.open = box.open; });
    box.append(el("summary", "", "add a toxic"));
    const form = el("form");
    form.noValidate = true; // the server is the judge of every value, and says why in one line
    const field = (label, input) => { const row = el("label", "toxic-attr"); row.append(el("span", "toxic-attr-name", label), input); return row; };
    const choice = (name, values, value) => {
      const select = el("select");
      select.name = name;
      for (const v of values) { const option = el("option", "", v); option.value = v; select.append(option); }
      select.value = values.includes(value) ? value : values[0];
      return select;
    };
    const text = (name, value) => { const input = el("input"); input.type = "text"; input.name = name; input.value = value; input.autocomplete = "off"; return input; };
    const type = choice("type", types, draft.type), stream = choice("stream", ["downstream", "upstream"], draft.stream);
    const name = text("name", draft.name), toxicity = text("toxicity", draft.toxicity);
    toxicity.inputMode = "decimal";
    const attributes = el("div", "toxic-add-attrs");
    const showAttributes = () => {
      attributes.replaceChildren();
      for (const [attr, fallback] of Object.entries(toxicTypes[type.value])) {
        const input = text(attr, String(draft.attributes[attr] ?? fallback));
        input.inputMode = "numeric";
        input.dataset.attr = attr;
        input.addEventListener("input", () => { draft.attributes[attr] = input.value; });
        attributes.append(field(attr, input));
      }
      name.placeholder = `${type.value}_${stream.value}`;
    };
    type.addEventListener("change", () => { draft.type = type.value; draft.attributes = {}; showAttributes(); });
    stream.addEventListener("change", () => { draft.stream = stream.value; showAttributes(); });
    name.addEventListener("input", () => { draft.name = name.value; });
    toxicity.addEventListener("input", () => { draft.toxicity = toxicity.value; });
    showAttributes();
    const add = el("button", "toxic-add-button", "add");
    add.type = "submit";
    form.append(field("type", type), field("stream", stream), field("name", name), field("toxicity", toxicity), attributes, add);
    form.addEventListener("submit", async event => {
      event.preventDefault();
      const body = { type: type.value, stream: stream.value, toxicity: typed(toxicity.value), attributes: {} };
      if (name.value.trim() !== "") body.name = name.value.trim();
      for (const input of attributes.querySelectorAll("input")) body.attributes[input.dataset.attr] = typed(input.value);
      if (await send(`${api}/${encodeURIComponent(proxy.name)}/toxics`, body, "POST", true)) {
        drafts.delete(proxy.name); // added: the form starts afresh
        await refresh(true);
      }
    });
    box.append(form);
    return box;
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
    box.append(toxics, addForm(proxy));
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
