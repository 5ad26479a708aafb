// SPDX-License-Identifier: Apache-2.0
//
// The casualty dashboard: documented casualties per month by side and by
// status (from /api/v1/casualties/monthly), and each issuer's reported
// totals beside the documented figures (from the page's table of tallies).
// Chart.js is loaded before this module as a plain script (global Chart);
// without it the page's tables still carry every figure.

const statusEl = document.getElementById('dashboard-status');
const PALETTE = ['#1f5f99', '#b23a48', '#4d7c0f', '#7c3aed', '#b45309', '#0e7490', '#6b7280', '#be185d'];
const STATUS_COLOURS = { civilian: '#1f5f99', combatant: '#b23a48', unknown: '#6b7280', 'not stated': '#a3a3a3' };
const reduceMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;

function say(msg) {
  statusEl.textContent = msg;
  statusEl.hidden = false;
}

async function getJSON(url) {
  const r = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${url} answered ${r.status}`);
  return r.json();
}

/** best is the figure a bar shows: the best estimate, else a bound. */
function best(c) {
  if (!c) return null;
  return c.best ?? c.low ?? c.high ?? null;
}

function countText(c) {
  if (!c) return 'not reported';
  if (c.best !== undefined) {
    return c.low !== undefined || c.high !== undefined ? `${c.best} (range ${c.low ?? '?'}–${c.high ?? '?'})` : String(c.best);
  }
  if (c.low !== undefined) return `at least ${c.low}`;
  return `at most ${c.high}`;
}

/** withAlpha turns #rrggbb into rgba with the given opacity. */
function withAlpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

function monthLabel(m) {
  const [y, mo] = m.split('-').map(Number);
  return new Date(Date.UTC(y, mo - 1, 1)).toLocaleDateString('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
}

const baseOptions = () => ({
  responsive: true,
  maintainAspectRatio: false,
  animation: reduceMotion ? false : { duration: 300 },
});

/** monthly draws killed and injured per month, stacked by side or status. */
async function monthly(by, canvas) {
  const d = await getJSON(`/api/v1/casualties/monthly?by=${by}`);
  const datasets = [];
  d.series.forEach((s, i) => {
    const colour = by === 'status' ? STATUS_COLOURS[s.key] || PALETTE[i % PALETTE.length] : PALETTE[i % PALETTE.length];
    for (const [what, counts, alpha] of [['killed', s.killed, 1], ['injured', s.injured, 0.45]]) {
      if (!counts.some(Boolean)) continue;
      datasets.push({
        label: `${s.label}: ${what}`, stack: what, counts, data: counts.map(best),
        backgroundColor: withAlpha(colour, alpha), borderColor: colour, borderWidth: 1,
      });
    }
  });
  if (datasets.length === 0) {
    canvas.parentElement.replaceWith(Object.assign(document.createElement('p'), { textContent: 'No casualty figures are recorded.' }));
    return;
  }
  new Chart(canvas, {
    type: 'bar',
    data: { labels: d.months.map(monthLabel), datasets },
    options: {
      ...baseOptions(),
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'people (best estimate)' } },
      },
      plugins: {
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${countText(ctx.dataset.counts[ctx.dataIndex])}` } },
      },
    },
  });
}

/** tallies draws each reported total beside the documented figure. */
function tallies(canvas) {
  const rows = [...document.querySelectorAll('#tally-table tbody tr')];
  if (rows.length === 0) {
    canvas.parentElement.hidden = true;
    return;
  }
  const num = (s) => (s === '' || s === undefined ? null : Number(s));
  const short = (s) => (s.length > 48 ? s.slice(0, 47) + '…' : s);
  const labels = rows.map((r) => [r.dataset.issuer, short(r.dataset.scope), `as of ${r.dataset.asOf}`]);
  new Chart(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'Reported by the issuer', data: rows.map((r) => num(r.dataset.reported)), backgroundColor: '#b45309' },
        { label: 'Documented incidents in scope', data: rows.map((r) => num(r.dataset.documented)), backgroundColor: '#1f5f99' },
      ],
    },
    options: {
      ...baseOptions(),
      indexAxis: 'y',
      scales: { x: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'killed (best estimate)' } } },
      plugins: {
        tooltip: {
          callbacks: {
            title: (items) => items[0].label.replaceAll(',', ' · '),
            footer: (items) => {
              const gap = rows[items[0].dataIndex].dataset.gap;
              return gap === '' ? 'Gap: not computable' : `Gap: ${gap} not accounted for by documented incidents`;
            },
          },
        },
      },
    },
  });
}

async function main() {
  if (typeof Chart === 'undefined') {
    if (!document.getElementById('charts-missing')) say('The chart library could not be loaded: the tables below carry the same figures.');
    document.body.dataset.charts = 'missing';
    return;
  }
  Chart.defaults.font.family = 'system-ui, sans-serif';
  const results = await Promise.allSettled([
    monthly('side', document.getElementById('chart-side')),
    monthly('status', document.getElementById('chart-status')),
    Promise.resolve().then(() => tallies(document.getElementById('chart-tallies'))),
  ]);
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) say(`Some charts could not be drawn: ${failed.map((r) => r.reason.message).join('; ')}`);
  document.body.dataset.charts = failed.length ? 'failed' : 'ready';
}

main();
