// A small line chart on a canvas: a fixed time window, several series, a y scale rounded to a
// "nice" number, and a label for the newest value. No library: the page loads nothing from outside.
"use strict";

class LineChart {
  constructor(canvas, series, options = {}) {
    this.canvas = canvas;
    this.series = series; // [{ key, color (CSS variable name), label, axis: "left" | "right" }]
    // The window grows with the history, from one minute up to five, so a fresh server is not a flat line.
    this.minWindowMs = options.minWindowMs ?? 60_000;
    this.maxWindowMs = options.maxWindowMs ?? 300_000;
    this.windowMs = this.minWindowMs;
    this.integerRight = options.integerRight ?? false;
    this.format = options.format ?? (v => String(Math.round(v)));
    this.formatRight = options.formatRight ?? this.format;
    this.points = [];
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  setPoints(points) { this.points = points; this.draw(); }

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
    const pad = { left: 44, right: this.series.some(s => s.axis === "right") ? 40 : 10, top: 10, bottom: 20 };
    const plotW = width - pad.left - pad.right, plotH = height - pad.top - pad.bottom;
    const now = this.points.length ? this.points[this.points.length - 1].time : Date.now();
    const span = this.points.length ? now - this.points[0].time : 0;
    this.windowMs = Math.min(this.maxWindowMs, Math.max(this.minWindowMs, Math.ceil(span / 60_000) * 60_000));
    canvas.dataset.points = this.points.length;
    const x = t => pad.left + plotW * (1 - (now - t) / this.windowMs);
    const maxOf = axis => niceMax(Math.max(0, ...this.points.flatMap(p => this.series.filter(s => (s.axis ?? "left") === axis).map(s => p[s.key] || 0))),
      axis === "right" && this.integerRight);
    const maxLeft = maxOf("left"), maxRight = maxOf("right");

    // Grid and axes.
    g.font = "11px ui-monospace, DejaVu Sans Mono, monospace";
    g.textBaseline = "middle";
    g.strokeStyle = color("--line");
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = Math.round(pad.top + plotH * i / 4) + .5;
      g.beginPath(); g.moveTo(pad.left, y); g.lineTo(pad.left + plotW, y); g.stroke();
      g.fillStyle = color("--muted");
      g.textAlign = "right";
      g.fillText(this.format(maxLeft * (4 - i) / 4), pad.left - 6, y);
      if (pad.right > 10) {
        g.textAlign = "left";
        g.fillText(this.formatRight(maxRight * (4 - i) / 4), pad.left + plotW + 6, y);
      }
    }
    g.textAlign = "center";
    g.textBaseline = "top";
    for (let m = 0; m <= this.windowMs / 60000; m++) {
      const t = now - m * 60000;
      g.fillText(m === 0 ? "now" : `-${m}m`, Math.min(Math.max(x(t), pad.left + 12), pad.left + plotW - 12), pad.top + plotH + 5);
    }

    // Series: a filled area under a line, oldest to newest.
    for (const s of this.series) {
      const max = (s.axis ?? "left") === "right" ? maxRight : maxLeft;
      const y = v => pad.top + plotH * (1 - (max ? v / max : 0));
      const visible = this.points.filter(p => now - p.time <= this.windowMs);
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
  }
}

// A scale top whose quarter (one grid step) is 1, 2, 2.5 or 5 × 10^n, so grid labels read well;
// whole steps only for counts.
function niceMax(v, integer) {
  const step = Math.max(v, integer ? 4 : 1) / 4;
  const p = Math.pow(10, Math.floor(Math.log10(step)));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * p >= step && (!integer || Number.isInteger(m * p))) return 4 * m * p;
  }
  return 40 * p;
}

window.LineChart = LineChart;
