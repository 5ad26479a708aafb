// SPDX-License-Identifier: Apache-2.0
//
// The map page. Incidents from /api/v1/map are drawn on a Leaflet map with
// marker clustering, over an offline basemap of Natural Earth's countries
// (and the configured tile server, if any). A timeline below brushes a
// period, which filters the map; the list shows the incidents of the period
// that are visible on the map. Leaflet, Leaflet.markercluster and
// topojson-client are loaded before this module as plain scripts (globals
// L and topojson); without them the timeline and the list still work.

import { timeline, dayNumber, isoDay } from './timeline.js';

const GRADES = ['confirmed', 'fair', 'weak', 'contested', 'discounted'];
const gradeKey = (g) => (GRADES.includes(g) ? g : 'unknown');

const root = document.getElementById('map');
const staticBase = root.dataset.static;
const tileURL = root.dataset.tiles;
const statusEl = document.getElementById('map-status');
const listBody = document.querySelector('#incident-list tbody');
const countEl = document.getElementById('incident-count');
const fromInput = document.getElementById('period-from');
const toInput = document.getElementById('period-to');
const clearButton = document.getElementById('period-clear');

/** say shows a message above the map. */
function say(msg) {
  statusEl.textContent = msg;
  statusEl.hidden = false;
}

/** h builds an HTML element; children are nodes or text. */
function h(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) if (c !== null && c !== undefined && c !== '') e.append(c);
  return e;
}

async function getJSON(url) {
  const r = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${url} answered ${r.status}`);
  return r.json();
}

/** countText writes a count of people as the engine gives it. */
function countText(c) {
  if (!c) return '';
  if (c.best !== undefined) {
    if (c.low !== undefined || c.high !== undefined) return `${c.best} (${c.low ?? '?'}–${c.high ?? '?'})`;
    return String(c.best);
  }
  if (c.low !== undefined) return `at least ${c.low}`;
  if (c.high !== undefined) return `at most ${c.high}`;
  return '';
}

function dates(p) {
  const a = p.date_start.slice(0, 10), b = p.date_end.slice(0, 10);
  return a === b ? a : `${a} – ${b}`;
}

function popup(p) {
  const killed = countText(p.killed), injured = countText(p.injured);
  return h('div', { className: 'gt-popup' },
    h('h3', {}, h('a', { href: '/incidents/' + encodeURIComponent(p.slug) }, p.title)),
    h('p', {}, dates(p), p.place ? ` · ${p.place}` : ''),
    h('p', {}, h('span', { className: `gt-swatch gt-grade-${gradeKey(p.grade)}` }), `Grade: ${p.grade || 'not graded'}`),
    killed || injured ? h('p', {}, `Documented: ${killed || 'no'} killed, ${injured || 'no'} injured`) : null,
    h('p', { className: 'muted' }, p.located_by === 'incident'
      ? `Located at the incident's own location${p.precision ? ` (${p.precision})` : ''}.`
      : `Located at its place in the gazetteer${p.precision ? ` (${p.precision})` : ''}, not at the exact spot.`));
}

function row(it) {
  const p = it.p;
  const tr = h('tr', {},
    h('td', {}, dates(p), h('br'), h('span', { className: 'muted' }, p.time_precision)),
    h('td', {}, p.place || ''),
    h('td', {}, h('a', { href: '/incidents/' + encodeURIComponent(p.slug) }, p.title), h('br'),
      h('span', { className: 'muted' }, p.sub_event_type)),
    h('td', {}, h('span', { className: `gt-swatch gt-grade-${gradeKey(p.grade)}` }), p.grade || 'not graded'));
  tr.dataset.slug = p.slug;
  return tr;
}

const state = { items: [], period: null, map: null, cluster: null };

function inPeriod(it) {
  return !state.period || (it.start <= state.period.to && it.end >= state.period.from);
}

function visible(it) {
  if (!state.map) return true;
  const b = state.map.getBounds();
  const [lat, lon] = it.latlng;
  // With worldCopyJump the view may show a copy of the world.
  return b.contains([lat, lon]) || b.contains([lat, lon + 360]) || b.contains([lat, lon - 360]);
}

/** renderList lists the incidents of the period that are visible. */
function renderList() {
  const shown = state.items.filter((it) => inPeriod(it) && visible(it));
  listBody.replaceChildren(...shown.map(row));
  if (shown.length === 0) {
    listBody.append(h('tr', {}, h('td', { colSpan: 4 }, 'No incident of this period is visible on the map: zoom out, pan, or widen the period.')));
  }
  const what = [state.period ? `from ${isoDay(state.period.from)} to ${isoDay(state.period.to)}` : null,
    state.map ? 'visible on the map' : null].filter(Boolean).join(', ');
  countEl.textContent = `(${shown.length} of ${state.items.length}${what ? ': ' + what : ''})`;
  countEl.dataset.shown = String(shown.length);
  countEl.dataset.total = String(state.items.length);
}

/** applyPeriod shows on the map only the incidents of the period. */
function applyPeriod(p) {
  state.period = p;
  fromInput.value = p ? isoDay(p.from) : '';
  toInput.value = p ? isoDay(p.to) : '';
  if (state.cluster) {
    state.cluster.clearLayers();
    state.cluster.addLayers(state.items.filter(inPeriod).map((it) => it.marker));
  }
  renderList();
}

/** makeIcons defines the markers' and clusters' icons (needs Leaflet). */
function makeIcons() {
  // A div icon whose element carries a title and the incidents' slugs.
  const Icon = L.DivIcon.extend({
    createIcon(old) {
      const div = L.DivIcon.prototype.createIcon.call(this, old);
      div.title = this.options.title || '';
      div.setAttribute('aria-label', this.options.title || '');
      div.dataset.slugs = this.options.slugs || '';
      return div;
    },
  });
  const marker = (p) => new Icon({
    className: `gt-marker gt-grade-${gradeKey(p.grade)}`, html: '<span></span>', iconSize: [18, 18],
    title: `${p.title} (${p.grade || 'not graded'})`, slugs: p.slug,
  });
  // A cluster's ring shows the mix of its grades.
  const cluster = (c) => {
    const ms = c.getAllChildMarkers();
    const by = {};
    for (const m of ms) by[m.gtGrade] = (by[m.gtGrade] || 0) + 1;
    let acc = 0;
    const stops = [];
    for (const g of [...GRADES, 'unknown']) {
      if (!by[g]) continue;
      stops.push(`var(--grade-${g}) ${(acc / ms.length) * 360}deg ${((acc + by[g]) / ms.length) * 360}deg`);
      acc += by[g];
    }
    const ring = h('div', {}, h('span', {}, String(ms.length)));
    ring.style.background = `conic-gradient(${stops.join(', ')})`;
    return new Icon({
      html: ring, className: 'gt-cluster', iconSize: [36, 36],
      title: `${ms.length} incidents:\n` + ms.map((m) => m.options.title).join('\n'),
      slugs: ms.map((m) => m.gtSlug).join(' '),
    });
  };
  return { marker, cluster };
}

/** basemap draws Natural Earth's countries under everything else. */
async function basemap(map) {
  map.createPane('basemap');
  map.getPane('basemap').style.zIndex = '150';
  map.getPane('basemap').style.pointerEvents = 'none';
  map.attributionControl.addAttribution('Basemap: <a href="https://www.naturalearthdata.com/">Natural Earth</a>');
  try {
    const topo = await getJSON(staticBase + 'vendor/world-atlas/countries-50m.json');
    const countries = topojson.feature(topo, topo.objects.countries);
    L.geoJSON(countries, {
      pane: 'basemap', interactive: false, renderer: L.canvas({ pane: 'basemap', padding: 0.5 }),
      style: { color: '#8c8c8c', weight: 0.8, fillColor: '#f3f0e8', fillOpacity: 1 },
    }).addTo(map);
    root.dataset.basemap = 'loaded';
  } catch (e) {
    root.dataset.basemap = 'failed';
    say(`The offline basemap could not be loaded (${e.message}): markers are shown without it.`);
  }
}

function tiles(map) {
  if (!tileURL) return;
  let host = '';
  try {
    host = new URL(tileURL.replace('{s}.', 'a.'), location.href).host;
  } catch {
    return;
  }
  const layer = L.tileLayer(tileURL, { maxZoom: 19, attribution: `Tiles: ${host.replace(/[^A-Za-z0-9.:-]/g, '')}` });
  let errors = 0;
  layer.on('tileerror', () => {
    if (++errors === 3) say('The tile server does not answer: the map shows the offline basemap.');
  });
  layer.addTo(map);
}

async function main() {
  let data;
  try {
    data = await getJSON('/api/v1/map');
  } catch (e) {
    say(`The incidents could not be loaded: ${e.message}.`);
    return;
  }
  state.items = data.features.map((f) => ({
    p: f.properties,
    latlng: [f.geometry.coordinates[1], f.geometry.coordinates[0]],
    start: dayNumber(f.properties.date_start),
    end: dayNumber(f.properties.date_end),
  }));
  if (data.unlocated && data.unlocated.length) {
    const note = document.getElementById('unlocated');
    note.append(`${data.unlocated.length} incident(s) have no coordinates and are not on the map: `);
    data.unlocated.forEach((slug, i) => {
      if (i) note.append(', ');
      note.append(h('a', { href: '/incidents/' + encodeURIComponent(slug) }, slug));
    });
    note.hidden = false;
  }

  const libs = typeof L !== 'undefined' && L.markerClusterGroup && typeof topojson !== 'undefined';
  if (!libs) {
    root.hidden = true;
    if (!document.getElementById('map-missing')) {
      say('The map libraries could not be loaded: the timeline and the list work without them.');
    }
  } else {
    const map = L.map(root, { worldCopyJump: true, minZoom: 2, maxZoom: tileURL ? 18 : 12 });
    basemap(map);
    tiles(map);
    const icons = makeIcons();
    const cluster = L.markerClusterGroup({
      maxClusterRadius: 40, showCoverageOnHover: false, spiderfyOnMaxZoom: true, iconCreateFunction: icons.cluster,
    });
    for (const it of state.items) {
      const m = L.marker(it.latlng, { icon: icons.marker(it.p), title: `${it.p.title} (${it.p.grade || 'not graded'})`, keyboard: true });
      m.gtGrade = gradeKey(it.p.grade);
      m.gtSlug = it.p.slug;
      m.bindPopup(() => popup(it.p));
      it.marker = m;
    }
    cluster.addTo(map);
    state.map = map;
    state.cluster = cluster;
    if (state.items.length) {
      map.fitBounds(L.latLngBounds(state.items.map((it) => it.latlng)).pad(0.6), { maxZoom: 9 });
    } else {
      map.setView([20, 0], 2);
    }
    map.on('moveend', renderList);
    // For tests and the browser console.
    window.groundtruthMap = { map, cluster };
  }

  const tl = timeline(document.getElementById('timeline'), state.items, applyPeriod);
  const fromInputs = () => {
    if (!fromInput.value && !toInput.value) return null;
    const d = tl.domain || { from: 0, to: 0 };
    let from = fromInput.value ? dayNumber(fromInput.value) : d.from;
    let to = toInput.value ? dayNumber(toInput.value) : d.to;
    if (from > to) [from, to] = [to, from];
    return { from, to };
  };
  for (const input of [fromInput, toInput]) {
    input.addEventListener('change', () => {
      const p = fromInputs();
      tl.setPeriod(p);
      applyPeriod(p);
    });
  }
  clearButton.addEventListener('click', () => {
    tl.setPeriod(null);
    applyPeriod(null);
  });
  applyPeriod(null);
  root.dataset.ready = 'true';
}

main();
