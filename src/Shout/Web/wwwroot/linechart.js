// A small line chart on a canvas: a time window, several series, axis titles with units, y scales
// with "nice" ticks over what is visible, and a stale mark while the data is not live. No library:
// the page loads nothing from outside. The tick labels drawn are also left in data-y-ticks,
// data-y-right-ticks and data-x-ticks (JSON), so a test can read back what the canvas shows.
"use strict";

class LineChart {
  constructor(canvas, series, options = {}) {
    this.canvas = canvas;
    this.series = series; // [{ key, color (CSS variable name), label, axis: "left" | "right" }]
    // The window grows with the history from one minute up to two: long enough to see a trend,
    // short enough that a burst minutes ago no longer sets the scale of what is happening now.
    this.minWindowMs = options.minWindowMs ?? 60_000;
    this.maxWindowMs = options.maxWindowMs ?? 120_000;
    this.windowMs = this.minWindowMs;
    this.integerLeft = options.integerLeft ?? false;
    this.integerRight = options.integerRight ?? false;
    this.format = options.format ?? (v => String(Math.round(v)));
    this.formatRight = options.formatRight ?? this.format;
    this.titleLeft = options.titleLeft ?? "";
    this.titleRight = options.titleRight ?? "";
    this.points = [];
    this.stale = false;
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  setPoints(points) { this.points = points; this.draw(); }

  setStale(stale) { if (this.stale !== stale) { this.stale = stale; this.draw(); } }

  push(point) {
    if (this.points.length && this.points[this.points.length - 1].time === point.time) this.points.pop();
    this.points.push(point);
    const oldest = point.time - this.maxWindowMs - 2000;
    while (this.points.length && this.points[0].time < oldest) this.points.shift();
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (!width || !height) return;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);

    const style = getComputedStyle(document.documentElement);
    const color = name => style.getPropertyValue(name).trim() || "#888";
    const now = this.points.length ? this.points[this.points.length - 1].time : Date.now();
    const span = this.points.length ? now - this.points[0].time : 0;
    this.windowMs = Math.min(this.maxWindowMs, Math.max(this.minWindowMs, Math.ceil(span / 60_000) * 60_000));
    const visible = this.points.filter(p => now - p.time <= this.windowMs);
    canvas.dataset.points = this.points.length;

    // The scale of each axis follows what is in the window, not what scrolled out of it.
    const hasRight = this.series.some(s => s.axis === "right");
    const scaleOf = (axis, integer) => niceScale(Math.max(0, ...visible.flatMap(p =>
      this.series.filter(s => (s.axis ?? "left") === axis).map(s => p[s.key] || 0))), integer);
    const left = scaleOf("left", this.integerLeft), right = scaleOf("right", this.integerRight);
    const leftLabels = left.ticks.map(v => this.format(v));
    const rightLabels = right.ticks.map(v => this.formatRight(v));

    // Room for the widest label, measured, so "80,000" is never cut to "0,000".
    g.font = "11px ui-monospace, DejaVu Sans Mono, monospace";
    const widest = labels => Math.max(0, ...labels.map(l => g.measureText(l).width));
    const pad = {
      left: Math.ceil(widest(leftLabels)) + 10,
      right: hasRight ? Math.ceil(widest(rightLabels)) + 10 : 12,
      top: 18,
      bottom: 20,
    };
    const plotW = width - pad.left - pad.right, plotH = height - pad.top - pad.bottom;
    const x = t => pad.left + plotW * (1 - (now - t) / this.windowMs);

    // Axis titles with their units, above each axis.
    g.fillStyle = color("--muted");
    g.textBaseline = "top";
    g.textAlign = "left";
    g.fillText(this.titleLeft, 2, 1);
    if (hasRight) { g.textAlign = "right"; g.fillText(this.titleRight, width - 2, 1); }

    // Grid and y ticks, top (largest) to bottom (0).
    g.textBaseline = "middle";
    g.strokeStyle = color("--line");
    g.lineWidth = 1;
    const steps = left.ticks.length - 1;
    for (let i = 0; i <= steps; i++) {
      const y = Math.round(pad.top + plotH * (steps - i) / steps) + .5;
      g.beginPath(); g.moveTo(pad.left, y); g.lineTo(pad.left + plotW, y); g.stroke();
      g.fillStyle = color("--muted");
      g.textAlign = "right";
      g.fillText(leftLabels[i], pad.left - 6, y);
      if (hasRight) {
        g.textAlign = "left";
        g.fillText(rightLabels[Math.round(i * (right.ticks.length - 1) / steps)], pad.left + plotW + 6, y);
      }
    }

    // Time ticks, one a minute (every 30 s in a one-minute window).
    g.textAlign = "center";
    g.textBaseline = "top";
    const stepMs = this.windowMs <= 60_000 ? 30_000 : 60_000;
    const xLabels = [];
    for (let t = 0; t <= this.windowMs; t += stepMs) {
      const label = t === 0 ? "now" : t % 60_000 ? `-${t / 1000}s` : `-${t / 60_000} min`;
      xLabels.push(label);
      g.fillText(label, Math.min(Math.max(x(now - t), pad.left + 16), pad.left + plotW - 16), pad.top + plotH + 5);
    }

    canvas.dataset.yTicks = JSON.stringify(leftLabels);
    canvas.dataset.yRightTicks = JSON.stringify(hasRight ? rightLabels : []);
    canvas.dataset.xTicks = JSON.stringify(xLabels);
    canvas.dataset.leftPad = pad.left;
    canvas.dataset.leftLabelWidth = Math.ceil(widest(leftLabels));
    canvas.dataset.titles = JSON.stringify([this.titleLeft, hasRight ? this.titleRight : ""].filter(t => t));
    canvas.dataset.stale = this.stale;

    // Series: a filled area under a line, oldest to newest.
    g.globalAlpha = this.stale ? .35 : 1;
    for (const s of this.series) {
      const max = (s.axis ?? "left") === "right" ? right.max : left.max;
      const y = v => pad.top + plotH * (1 - (max ? v / max : 0));
      if (visible.length < 2) continue;
      const stroke = color(s.color);
      g.beginPath();
      visible.forEach((p, i) => i ? g.lineTo(x(p.time), y(p[s.key] || 0)) : g.moveTo(x(p.time), y(p[s.key] || 0)));
      g.lineWidth = 2; g.strokeStyle = stroke; g.lineJoin = "round";
      g.setLineDash(s.dash ?? []);
      g.stroke();
      g.setLineDash([]);
      if (s.fill !== false) {
        g.lineTo(x(visible[visible.length - 1].time), pad.top + plotH);
        g.lineTo(x(visible[0].time), pad.top + plotH);
        g.closePath();
        const gradient = g.createLinearGradient(0, pad.top, 0, pad.top + plotH);
        gradient.addColorStop(0, stroke + "55"); gradient.addColorStop(1, stroke + "00");
        g.fillStyle = gradient; g.fill();
      }
    }
    g.globalAlpha = 1;
    if (this.stale) {
      g.fillStyle = color("--bad");
      g.textAlign = "center";
      g.textBaseline = "middle";
      g.font = "600 12px ui-sans-serif, system-ui, sans-serif";
      g.fillText("stale: not receiving live data", pad.left + plotW / 2, pad.top + plotH / 2);
    }
  }
}

// Ticks 0, s, 2s, 3s, 4s whose step s is 1, 2, 2.5 or 5 × 10^n, so labels read well; for counts
// and bytes the step is a whole number, so no two ticks show the same rounded label.
function niceScale(v, integer) {
  const step = Math.max(v, integer ? 4 : 1e-9) / 4;
  const p = Math.pow(10, Math.floor(Math.log10(step)));
  let nice = 10 * p;
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * p >= step && (!integer || Number.isInteger(m * p))) { nice = m * p; break; }
  }
  if (!v) nice = integer ? 1 : 0.25;
  const ticks = [0, 1, 2, 3, 4].map(i => +(i * nice).toPrecision(12));
  return { max: ticks[4], ticks };
}

window.LineChart = LineChart;
