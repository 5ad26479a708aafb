// SPDX-License-Identifier: Apache-2.0
//
// Browser tests: the built binary serves the demo case, and Debian's
// Chromium, driven by Playwright (playwright-core: no browser download),
// walks the map, the timeline, an incident, sign-in, a logged reveal and
// the dashboard as a person would. Run by `make browser-test`:
//
//   GROUNDTRUTH_BIN   the binary (default: bin/groundtruth in the repository)
//   CHROMIUM          the browser (default: /usr/bin/chromium)
//
// A screenshot of each page goes to test-results/ at the repository root.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.GROUNDTRUTH_BIN || path.join(repo, 'bin/groundtruth');
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
const results = path.join(repo, 'test-results');

// Hadrut, where the demo case places two incidents.
const HADRUT = [39.52, 47.031];

let server, dataDir, base, password, browser, context, mapPage;
const consoleErrors = new Map(); // page name → messages

/** startDemo runs `groundtruth demo` and reads its address and password. */
function startDemo() {
  dataDir = mkdtempSync(path.join(tmpdir(), 'groundtruth-e2e-'));
  server = spawn(bin, ['--data', path.join(dataDir, 'data'), '--as', 'e2e', 'demo', '--addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '', err = '';
  server.stderr.on('data', (b) => { err += b; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`groundtruth demo did not start in 30 s:\n${out}\n${err}`)), 30000);
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`groundtruth demo exited with ${code}:\n${out}\n${err}`));
    });
    server.stdout.on('data', (b) => {
      out += b;
      const pw = /sign in as admin with password (\S+)/.exec(out);
      const addr = /serving .* on (http:\/\/[^/\s]+)\//.exec(out);
      if (pw && addr) {
        clearTimeout(timer);
        resolve({ base: addr[1], password: pw[1] });
      }
    });
  });
}

/** open makes a page that records its console errors under a name. */
async function open(name) {
  const page = await context.newPage();
  const errors = [];
  consoleErrors.set(name, errors);
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(results, `${name}.png`), fullPage: true });
}

before(async () => {
  assert.ok(existsSync(bin), `${bin} is missing: run make build`);
  assert.ok(existsSync(browserPath), `${browserPath} is missing: apt-get install chromium (or set CHROMIUM)`);
  mkdirSync(results, { recursive: true });
  ({ base, password } = await startDemo());
  browser = await chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1200, height: 900 }, reducedMotion: 'reduce' });
  context.setDefaultTimeout(15000);
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('the map shows the Hadrut cluster over the offline basemap', async () => {
  mapPage = await open('map');
  await mapPage.goto(base + '/map');
  await mapPage.locator('#map[data-ready="true"]').waitFor({ state: 'attached' });
  await mapPage.locator('#map[data-basemap="loaded"]').waitFor({ state: 'attached' });
  const cluster = mapPage.locator('.gt-cluster[data-slugs~="hadrut-execution"][data-slugs~="hadrut-civilians-2020-10-10"]');
  await cluster.waitFor();
  assert.equal((await cluster.innerText()).trim(), '2');
  // The cluster sits on Hadrut.
  const box = await cluster.boundingBox();
  const want = await mapPage.evaluate(([lat, lon]) => {
    const { map } = window.groundtruthMap;
    const p = map.latLngToContainerPoint([lat, lon]);
    const r = map.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, HADRUT);
  const dx = box.x + box.width / 2 - want.x, dy = box.y + box.height / 2 - want.y;
  assert.ok(Math.hypot(dx, dy) < 6, `the Hadrut cluster is ${Math.round(Math.hypot(dx, dy))} px from Hadrut`);
  // The other incidents are single markers, and all four are listed.
  await mapPage.locator('.gt-marker[data-slugs="ganja-missile-strike-2020-10-11"]').waitFor();
  await mapPage.locator('.gt-marker[data-slugs="stepanakert-cluster-munitions"]').waitFor();
  assert.equal(await mapPage.locator('#incident-count').getAttribute('data-shown'), '4');
  assert.equal(await mapPage.locator('#incident-list tbody tr[data-slug]').count(), 4);
  await shot(mapPage, '1-map');
  assert.deepEqual(consoleErrors.get('map'), []);
});

test('brushing a period on the timeline filters the map and the list', async () => {
  const svg = await mapPage.locator('#timeline svg').boundingBox();
  const from = await mapPage.locator('#timeline rect.bar[data-day="2020-10-09"]').boundingBox();
  const to = await mapPage.locator('#timeline rect.bar[data-day="2020-10-12"]').boundingBox();
  const y = svg.y + svg.height / 2;
  await mapPage.mouse.move(from.x + 1, y);
  await mapPage.mouse.down();
  await mapPage.mouse.move((from.x + to.x) / 2, y, { steps: 4 });
  await mapPage.mouse.move(to.x + to.width - 1, y, { steps: 4 });
  await mapPage.mouse.up();
  await mapPage.waitForFunction(() => document.getElementById('incident-count').dataset.shown === '3');
  assert.equal(await mapPage.inputValue('#period-from'), '2020-10-09');
  assert.equal(await mapPage.inputValue('#period-to'), '2020-10-12');
  const slugs = await mapPage.locator('#incident-list tbody tr[data-slug]').evaluateAll((rows) => rows.map((r) => r.dataset.slug));
  assert.ok(!slugs.includes('stepanakert-cluster-munitions'), `still listed: ${slugs}`);
  // Stepanakert's strikes (27 September to 5 October) left the map too.
  assert.equal(await mapPage.locator('.gt-marker[data-slugs="stepanakert-cluster-munitions"]').count(), 0);
  await shot(mapPage, '2-map-period');
  // Panning away from every incident empties the list.
  await mapPage.evaluate(() => { window.groundtruthMap.map.setView([0, -120], 6, { animate: false }); });
  await mapPage.waitForFunction(() => document.getElementById('incident-count').dataset.shown === '0');
  await mapPage.evaluate(() => { window.groundtruthMap.map.setView([40.1, 46.7], 7, { animate: false }); });
  await mapPage.waitForFunction(() => document.getElementById('incident-count').dataset.shown === '3');
});

test('an incident opens from the list', async () => {
  const link = mapPage.locator('#incident-list tr[data-slug="hadrut-execution"] a');
  const title = (await link.innerText()).trim();
  await Promise.all([mapPage.waitForURL('**/incidents/hadrut-execution'), link.click()]);
  assert.equal((await mapPage.locator('h1').innerText()).trim(), title);
  await shot(mapPage, '3-incident');
  await mapPage.close();
});

test('an admin signs in', async () => {
  const page = await open('login');
  await page.goto(base + '/login');
  await page.fill('input[name="name"]', 'admin');
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL(base + '/'), page.click('button:has-text("Sign in")')]);
  assert.match(await page.locator('nav').innerText(), /admin \(admin\)/);
  await shot(page, '4-signed-in');
  await page.close();
});

test('revealing graphic media is in the access log', async () => {
  const page = await open('evidence');
  await page.goto(base + '/evidence/hadrut-execution-video');
  await Promise.all([page.waitForURL('**/evidence/hadrut-execution-video'), page.click('button:has-text("Reveal")')]);
  await page.locator('.media').waitFor({ state: 'attached' });
  await shot(page, '5-evidence-revealed');
  const resp = await page.goto(base + '/api/v1/access-log');
  assert.equal(resp.status(), 200);
  const { entries } = await resp.json();
  const found = entries.find((e) => e.user === 'admin' && e.action === 'reveal_graphic' && e.subject === 'hadrut-execution-video');
  assert.ok(found, `no reveal in the access log: ${JSON.stringify(entries)}`);
  await page.close();
});

test('the dashboard draws its charts', async () => {
  const page = await open('dashboard');
  await page.goto(base + '/dashboard');
  await page.waitForFunction(() => document.body.dataset.charts !== undefined);
  assert.equal(await page.evaluate(() => document.body.dataset.charts), 'ready');
  const charts = await page.evaluate(() => [...document.querySelectorAll('canvas')].map((c) => {
    const chart = window.Chart.getChart(c);
    return { id: c.id, drawn: Boolean(chart) && c.width > 0 && c.height > 0, datasets: chart ? chart.data.datasets.length : 0 };
  }));
  assert.deepEqual(charts.map((c) => c.id), ['chart-side', 'chart-status', 'chart-tallies']);
  for (const c of charts) assert.ok(c.drawn && c.datasets > 0, `${c.id} not drawn: ${JSON.stringify(c)}`);
  assert.equal(await page.locator('#tally-table tbody tr').count(), 4);
  await shot(page, '6-dashboard');
  assert.deepEqual(consoleErrors.get('dashboard'), []);
  await page.close();
});

test('an assessment added through the form changes the grade explanation', async () => {
  const page = await open('assessment');
  const explanation = async () => page.locator('h2:has-text("Grade") + table').innerText();
  await page.goto(base + '/incidents/ganja-missile-strike-2020-10-11');
  const before = await explanation();
  assert.ok(!before.includes('assessment/browser-geo'), 'the new assessment is already named');
  await Promise.all([page.waitForURL('**/assessments/new'), page.click('a:has-text("Record an assessment")')]);
  await page.selectOption('select[name="kind"]', 'attribution');
  await page.selectOption('select[name="organisation"]', 'bellingcat');
  await page.fill('input[name="finding"]', 'Fragments match a ballistic missile of the alleged perpetrator');
  await page.fill('input[name="value"]', 'azerbaijani-armed-forces');
  await page.selectOption('select[name="likelihood"]', 'likely');
  await page.fill('input[name="reason"]', 'browser test: a desk attribution');
  await page.fill('input[name="slug"]', 'browser-geo');
  await Promise.all([page.waitForURL('**/incidents/ganja-missile-strike-2020-10-11'), page.click('button:has-text("Save")')]);
  const after = await explanation();
  assert.ok(after.includes('assessment/browser-geo'), `the grade explanation does not name the new assessment:\n${after}`);
  assert.notEqual(after, before);
  await shot(page, '7-assessment-added');
  await page.close();
});

test('a search in Armenian script finds Hadrut', async () => {
  const page = await open('search');
  await page.goto(base + '/search');
  await page.fill('input[name="q"]', 'Հադրութ');
  await Promise.all([page.waitForURL('**/search?q=*'), page.press('input[name="q"]', 'Enter')]);
  const results = await page.locator('#results a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.ok(results.includes('/incidents/hadrut-execution'), `results: ${results}`);
  assert.ok(results.includes('/incidents/hadrut-civilians-2020-10-10'), `results: ${results}`);
  await shot(page, '8-search-armenian');
  await page.close();
});

test('several files upload at once, with progress, and join the incident', async () => {
  const page = await open('upload');
  await page.goto(base + '/incidents/ganja-missile-strike-2020-10-11');
  const before = await page.locator('h2:has-text("Evidence") + ul li a').count();
  await page.fill('form[data-upload] input[name="reason"]', 'browser test: two files');
  await page.setInputFiles('form[data-upload] input[type="file"]', [
    { name: 'first.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('\xff\xd8\xff\xe0 first test file') },
    { name: '../../second.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(256 * 1024, 7) },
  ]);
  await Promise.all([page.waitForEvent('load'), page.click('button:has-text("Upload evidence")')]);
  await page.waitForFunction((n) => document.querySelectorAll('h2 + ul li a[href^="/evidence/"]').length >= n + 2, before);
  await shot(page, '9-uploaded');
  await page.close();
});
