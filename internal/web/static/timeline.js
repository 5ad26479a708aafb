// SPDX-License-Identifier: Apache-2.0
//
// A timeline of events per day, drawn as an SVG bar chart, on which a
// period can be brushed (click and drag). No library: the chart is small.

const SVG = 'http://www.w3.org/2000/svg';
const DAY_MS = 86400000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * dayNumber turns a date or time ("2020-10-09", "2020-10-09T14:05:00Z")
 * into the number of its UTC day since 1970-01-01, or NaN.
 * @param {string} s
 * @returns {number}
 */
export function dayNumber(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s || '');
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) / DAY_MS : NaN;
}

/**
 * isoDay turns a day number back into "YYYY-MM-DD".
 * @param {number} n
 * @returns {string}
 */
export function isoDay(n) {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

function label(n) {
  const d = new Date(n * DAY_MS);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

/**
 * timeline draws the number of items per day into container and calls
 * onChange with the brushed period ({from, to}, day numbers, both
 * included) or null when the period is cleared.
 * @param {HTMLElement} container
 * @param {{start: number, end: number}[]} items day spans
 * @param {(period: {from: number, to: number} | null) => void} onChange
 * @returns {{setPeriod: (p: {from: number, to: number} | null) => void, domain: {from: number, to: number} | null}}
 */
export function timeline(container, items, onChange) {
  const spans = items.filter((it) => Number.isFinite(it.start) && Number.isFinite(it.end));
  if (spans.length === 0) {
    container.textContent = 'No dated incidents to show.';
    return { setPeriod() {}, domain: null };
  }
  const d0 = Math.min(...spans.map((s) => s.start)) - 1;
  const d1 = Math.max(...spans.map((s) => s.end)) + 1;
  const n = d1 - d0 + 1;
  const counts = new Array(n).fill(0);
  for (const s of spans) for (let d = s.start; d <= s.end; d++) counts[d - d0]++;
  const max = Math.max(...counts);

  const H = 120, ML = 28, MR = 8, MT = 10, MB = 24;
  let period = null;
  let W = 0, bw = 1, svg = null, brush = null, bars = [];

  const dayAt = (x) => Math.min(d1, Math.max(d0, d0 + Math.floor((x - ML) / bw)));

  function drawBrush(x, w) {
    brush.setAttribute('x', String(x));
    brush.setAttribute('width', String(Math.max(0, w)));
    brush.setAttribute('visibility', w > 0 ? 'visible' : 'hidden');
  }

  function showPeriod() {
    if (!svg) return;
    if (period) {
      drawBrush(ML + (period.from - d0) * bw, (period.to - period.from + 1) * bw);
    } else {
      drawBrush(0, 0);
    }
    bars.forEach((b, i) => {
      const d = d0 + i;
      b.classList.toggle('out', period !== null && (d < period.from || d > period.to));
    });
  }

  function render() {
    W = Math.max(240, Math.floor(container.clientWidth || 600));
    bw = (W - ML - MR) / n;
    container.replaceChildren();
    svg = el('svg', {
      width: W, height: H, role: 'img',
      'aria-label': `Incidents per day from ${isoDay(d0 + 1)} to ${isoDay(d1 - 1)}; at most ${max} on one day`,
    }, container);
    const plotH = H - MT - MB;
    el('line', { class: 'axis', x1: ML, x2: W - MR, y1: MT + plotH + 0.5, y2: MT + plotH + 0.5 }, svg);
    el('line', { class: 'axis', x1: ML - 0.5, x2: ML - 0.5, y1: MT, y2: MT + plotH }, svg);
    const top = el('text', { x: ML - 4, y: MT + 8, 'text-anchor': 'end' }, svg);
    top.textContent = String(max);
    const zero = el('text', { x: ML - 4, y: MT + plotH, 'text-anchor': 'end' }, svg);
    zero.textContent = '0';
    bars = counts.map((c, i) => {
      const h = max ? (c / max) * plotH : 0;
      const gap = bw > 4 ? 1 : 0;
      const b = el('rect', {
        class: 'bar', x: ML + i * bw + gap / 2, y: MT + plotH - h, width: Math.max(0.5, bw - gap), height: h,
        'data-day': isoDay(d0 + i), 'data-count': c,
      }, svg);
      const t = el('title', {}, b);
      t.textContent = `${isoDay(d0 + i)}: ${c} incident${c === 1 ? '' : 's'}`;
      return b;
    });
    // Day labels, spaced so that they do not overlap.
    const step = Math.max(1, Math.ceil(52 / bw));
    for (let i = 1; i < n; i += step) {
      const t = el('text', { x: ML + (i + 0.5) * bw, y: H - 8, 'text-anchor': 'middle' }, svg);
      t.textContent = label(d0 + i);
    }
    brush = el('rect', { class: 'brush', x: 0, y: MT, width: 0, height: plotH, visibility: 'hidden' }, svg);
    // A transparent layer on top takes the pointer.
    const hit = el('rect', { x: 0, y: 0, width: W, height: H, fill: 'transparent' }, svg);
    let x0 = null;
    const localX = (e) => e.clientX - svg.getBoundingClientRect().left;
    hit.addEventListener('pointerdown', (e) => {
      x0 = localX(e);
      hit.setPointerCapture(e.pointerId);
      drawBrush(x0, 0);
    });
    hit.addEventListener('pointermove', (e) => {
      if (x0 === null) return;
      const x = localX(e);
      drawBrush(Math.min(x0, x), Math.abs(x - x0));
    });
    const end = (e) => {
      if (x0 === null) return;
      const x = localX(e);
      const a = Math.min(x0, x), b = Math.max(x0, x);
      x0 = null;
      period = b - a < 4 ? null : { from: dayAt(a), to: dayAt(b) };
      showPeriod();
      onChange(period);
    };
    hit.addEventListener('pointerup', end);
    hit.addEventListener('pointercancel', () => { x0 = null; showPeriod(); });
    showPeriod();
  }

  render();
  let lastWidth = container.clientWidth;
  new ResizeObserver(() => {
    if (container.clientWidth !== lastWidth) {
      lastWidth = container.clientWidth;
      render();
    }
  }).observe(container);

  return {
    setPeriod(p) {
      period = p;
      showPeriod();
    },
    domain: { from: d0 + 1, to: d1 - 1 },
  };
}
