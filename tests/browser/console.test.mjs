// The web console in Chromium, against a running site (tests/browser/test_console.cpp starts the
// demo and passes what it made). Every check compares what a page shows with what the REST API
// answers to the test itself, and uses only what docs/console.md promises: roles, labels,
// headings, link and button names, and data-testid="rollout-state".
//
// Environment:
//   FERRY_CONSOLE_URL      e.g. http://127.0.0.1:PORT/console/ (required)
//   FERRY_ADMIN_TOKEN      the bootstrap admin's token (required; its user is "admin")
//   FERRY_VIEWER_TOKEN     a viewer's token (required); FERRY_VIEWER_NAME its name (optional)
//   FERRY_SCREENSHOT_DIR   where the screenshots go (required)
//   FERRY_HALTED_ROLLOUT   a halted rollout, RO-N (default: the first halted one)
//   FERRY_COLLECTION       a collection with a query (default: the first one with a query)
//   FERRY_RELEASE          a release reference (default: the first release)
//   FERRY_DP               a distribution point's name (default: the first one)
//   FERRY_HOSTNAMES        comma-separated hostnames the clients page must list (default: all)
//   FERRY_CHROMIUM         the browser (default /usr/bin/chromium)
//
// Prints "ok - CHECK" per check; on the first failure prints "not ok - CHECK: WHY", saves
// FAILED.png in the screenshot directory, and exits 1. Run: node tests/browser/console.test.mjs
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { required } from './environment.mjs';

// --- configuration --------------------------------------------------------------------------

const consoleUrl = required('FERRY_CONSOLE_URL');
const adminToken = required('FERRY_ADMIN_TOKEN');
const viewerToken = required('FERRY_VIEWER_TOKEN');
const screenshotDir = required('FERRY_SCREENSHOT_DIR');
const viewerName = process.env.FERRY_VIEWER_NAME || '';
const executablePath = process.env.FERRY_CHROMIUM || '/usr/bin/chromium';
const origin = new URL(consoleUrl).origin;
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 420, height: 800 };
const WAIT = 20_000; // generous but bounded: what a page gets to show what it must

// --- reporting --------------------------------------------------------------------------------

let current = 'starting';
let activePage = null;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function check(name, body) {
  current = name;
  await body();
  console.log(`ok - ${name}`);
}

// Calls `probe` until it returns without throwing something other than undefined/false, or
// throws after `timeout` with the last reason.
async function until(what, probe, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let reason = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      reason = '';
    } catch (error) {
      reason = error.message;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeout / 1000} s${reason ? `: ${reason}` : ''}`);
    }
    await sleep(150);
  }
}

async function screenshot(page, name) {
  if (name !== 'FAILED') {
    const bare = await page.evaluate(() => [...document.querySelectorAll('table')].filter((t) => !t.caption || !t.caption.textContent.trim()).length);
    assert.equal(bare, 0, `${name}: ${bare} table(s) without a <caption>`);
  }
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

// --- the REST API, as the test itself sees it -----------------------------------------------

async function api(method, route, token, body) {
  const response = await fetch(`${origin}/api/v1${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: json stays null, text says what came
  }
  return { status: response.status, json, text };
}
async function get(route) {
  const answer = await api('GET', route, adminToken);
  assert.equal(answer.status, 200, `GET /api/v1${route}: ${answer.status} ${answer.text}`);
  return answer.json;
}

// What a wave's progress bar must say: percent succeeded (rounding either way is fine).
function wavePercent(wave) {
  return wave.members > 0 ? (100 * wave.succeeded) / wave.members : null;
}
function closeTo(actual, expected) {
  return expected === null || Math.abs(actual - expected) <= 1;
}

// --- the browser --------------------------------------------------------------------------------

const problems = []; // console errors, CSP violations and uncaught errors of every page
// A refusal a check provokes on purpose (Chromium logs every 4xx answer as a console error).
let provokedStatus = null;
const responses = []; // every response from the site: [url, headers]
const visited = []; // every URL a page's main frame showed
let expectRefusal = false; // while the wrong token is tried: its 401 is expected

async function newSession(browser, who) {
  const context = await browser.newContext({ viewport: WIDE, serviceWorkers: 'block' });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (expectRefusal && /status of 401/.test(text)) return;
    if (provokedStatus && text.includes(`status of ${provokedStatus}`)) return;
    problems.push(`[${who}] console error: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`[${who}] uncaught: ${error.message}`));
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) visited.push(frame.url());
  });
  page.on('response', (response) => {
    if (response.url().startsWith(origin)) responses.push([response.url(), response.headers()]);
  });
  activePage = page;
  return { context, page };
}

async function signIn(page, token, expectedHeader) {
  await page.getByLabel('Access token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await until(`"${expectedHeader}"`, async () => {
    const text = await page.getByText(expectedHeader).first().textContent({ timeout: 500 });
    return typeof expectedHeader === 'string' ? text.includes(expectedHeader) : true;
  });
}

// Goes to a hash route and waits for its one <h1>.
async function open(page, route, heading) {
  await page.goto(new URL(route, consoleUrl).href);
  const h1 = page.getByRole('heading', { level: 1, name: heading, exact: true });
  await h1.waitFor({ timeout: WAIT });
  assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1, `one <h1> on ${route}`);
}

// Follows a link of the main navigation and waits for the page's <h1>.
async function follow(page, link, heading) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor({ timeout: WAIT });
  assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1, `one <h1> on ${heading}`);
}

// Waits until the page shows each of `texts` (strings, as they are).
async function shows(page, texts, where) {
  for (const text of texts) {
    await until(`${where} shows "${text}"`, async () => (await page.getByText(text, { exact: false }).count()) > 0);
  }
}

// The text of the row (table row or list item) that mentions `key`, once there is one.
async function rowText(page, key, where) {
  return until(`${where}: a row with "${key}"`, async () => {
    const row = page.getByRole('row').filter({ hasText: key }).or(page.getByRole('listitem').filter({ hasText: key }));
    if ((await row.count()) === 0) return false;
    return (await row.first().innerText()).replace(/\s+/g, ' ');
  });
}

async function rolloutState(page) {
  return (await page.getByTestId('rollout-state').textContent({ timeout: WAIT })).trim();
}

// The rollout page agrees with GET /api/v1/rollouts/ID/report: the state, and per wave its
// progress bar and its numbers in the Waves table.
async function checkRolloutPage(page, id) {
  await open(page, `#/rollouts/${id}`, `Rollout ${id}`);
  const report = await get(`/rollouts/${id}/report`);
  assert.equal(await rolloutState(page), report.rollout.state, 'data-testid="rollout-state"');
  const table = page.getByRole('table', { name: 'Waves', exact: true });
  await table.waitFor({ timeout: WAIT });
  const headers = (await table.getByRole('columnheader').allInnerTexts()).map((h) => h.trim().toLowerCase());
  const column = (pattern) => headers.findIndex((h) => pattern.test(h));
  const columns = {
    members: column(/^(members|clients|targeted|size)\b/),
    succeeded: column(/^(succeeded|ok|installed|done)\b/),
    failed: column(/^failed\b/),
  };
  const bars = table.getByRole('progressbar');
  await until(`${id}: a progress bar per wave`, async () => {
    assert.equal(await bars.count(), report.rollout.waves.length, 'progress bars in the Waves table');
    return true;
  });
  const seen = [];
  for (const wave of report.rollout.waves) {
    const barName = { name: `Wave ${wave.number} progress`, exact: true };
    const bar = table.getByRole('progressbar', barName);
    const now = Number(await bar.getAttribute('aria-valuenow', { timeout: WAIT }));
    const expected = wavePercent(wave);
    assert.ok(closeTo(now, expected), `${id} wave ${wave.number}: aria-valuenow ${now}, the server says ${expected}% (${wave.succeeded} of ${wave.members})`);
    const row = table.getByRole('row').filter({ has: page.getByRole('progressbar', barName) });
    const cells = await row.evaluate((tr) => [...tr.cells].map((cell) => cell.textContent.trim()));
    for (const [name, index] of Object.entries(columns)) {
      const value = String(wave[name]);
      if (index >= 0) {
        assert.ok(new RegExp(`(^|\\D)${value}(\\D|$)`).test(cells[index] ?? ''),
          `${id} wave ${wave.number}: column "${headers[index]}" shows "${cells[index]}", the server says ${name} ${value}`);
      } else {
        // No column by that name: the number must be in the row, as a number of its own.
        assert.ok(cells.some((cell) => new RegExp(`(^|\\D)${value}(\\D|$)`).test(cell)),
          `${id} wave ${wave.number}: ${name} ${value} is not in the row [${cells.join(' | ')}]`);
      }
    }
    seen.push(`wave ${wave.number} ${now}% (${wave.succeeded}/${wave.members}, ${wave.failed} failed)`);
  }
  return { report, seen };
}

// Resume or Halt on the rollout page: the Reason, Confirm; the state the page and the server show.
async function act(page, id, button, state, reason) {
  await page.getByRole('button', { name: button, exact: true }).click();
  await page.getByLabel('Reason', { exact: true }).fill(reason);
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await until(`${id} shows "${state}" after ${button}`, async () => (await rolloutState(page)) === state);
  const rollout = await get(`/rollouts/${id}`);
  assert.equal(rollout.state, state, `GET /api/v1/rollouts/${id} after ${button}`);
  const { entries } = await get('/changelog?limit=10000');
  const entry = entries.filter((e) => e.action === 'rollout.state' && e.subject.includes(id)).pop();
  assert.ok(entry, `no rollout.state entry for ${id} in the change log`);
  assert.equal(entry.actor, 'admin', `the last rollout.state entry of ${id}: ${JSON.stringify(entry)}`);
  assert.ok(entry.after.startsWith(state) && entry.after.includes(reason),
    `the last rollout.state entry of ${id} says "${entry.after}", not "${state}: ${reason}"`);
  return entry;
}

// No horizontal overflow of the document: what is wider than the window scrolls inside its own
// container. On failure, names the elements that stick out.
async function checkNoOverflow(page, where) {
  const found = await page.evaluate(() => {
    const root = document.scrollingElement || document.documentElement;
    const width = root.clientWidth;
    const body = document.body;
    const insideScroller = (element) => {
      for (let e = element.parentElement; e && e !== body; e = e.parentElement) {
        if (/(auto|scroll|hidden)/.test(getComputedStyle(e).overflowX)) return true;
      }
      return false;
    };
    const wide = [...body.querySelectorAll('*')]
      .filter((e) => e.getBoundingClientRect().right > width + 1 && !insideScroller(e))
      .slice(0, 5)
      .map((e) => `<${e.tagName.toLowerCase()}${e.className ? ` class="${e.className}"` : ''}> right ${Math.round(e.getBoundingClientRect().right)}`);
    return { width, root: root.scrollWidth, body: body.scrollWidth, bodyClient: body.clientWidth, wide };
  });
  assert.ok(found.root <= found.width && found.body <= Math.max(found.bodyClient, found.width),
    `${where} at ${NARROW.width} px: the document is ${found.root} px wide (body ${found.body}), the window ${found.width}; ${found.wide.join(', ')}`);
}

// --- the run ----------------------------------------------------------------------------------

async function main() {
  mkdirSync(screenshotDir, { recursive: true });
  rmSync(path.join(screenshotDir, 'FAILED.png'), { force: true });
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-sandbox',
    ],
  });
  try {
    await run(browser);
  } catch (error) {
    if (activePage && !activePage.isClosed()) {
      try {
        await screenshot(activePage, 'FAILED');
        error.message += ` (the page as it was: ${path.join(screenshotDir, 'FAILED.png')})`;
      } catch {
        // no screenshot: the error says enough
      }
    }
    throw error;
  } finally {
    await browser.close();
  }
}

async function run(browser) {
  // What the server says, to compare with.
  const rollouts = (await get('/rollouts')).rollouts;
  const haltedId = process.env.FERRY_HALTED_ROLLOUT || rollouts.find((r) => r.state === 'halted')?.id;
  assert.ok(haltedId, 'no halted rollout (FERRY_HALTED_ROLLOUT)');
  const completedId = rollouts.find((r) => r.state === 'completed' && !r.backout)?.id;
  const collections = (await get('/collections')).collections;
  const collection = process.env.FERRY_COLLECTION || collections.find((c) => c.query)?.name;
  const releases = (await get('/releases')).releases;
  const releaseRef = process.env.FERRY_RELEASE || releases[0]?.reference;
  const dps = (await get('/dps')).dps;
  const dpName = process.env.FERRY_DP || dps[0]?.name;
  const clients = (await get('/clients')).clients;
  const packages = (await get('/packages')).packages;

  const admin = await newSession(browser, 'admin');
  const page = admin.page;

  await check('/console/ has a Content-Security-Policy with script-src \'self\' and no unsafe-inline', async () => {
    const response = await page.goto(consoleUrl);
    assert.equal(response.status(), 200, `GET ${consoleUrl}`);
    const headers = response.headers();
    const csp = headers['content-security-policy'];
    assert.ok(csp, `no Content-Security-Policy on ${consoleUrl}`);
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([k, ...v]) => [k, v.join(' ')]));
    assert.equal(directives['script-src'], "'self'", `script-src in "${csp}"`);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), `"${csp}"`);
    assert.equal(directives['default-src'], "'none'", `default-src in "${csp}"`);
    assert.equal(directives['connect-src'], "'self'", `connect-src in "${csp}"`);
    assert.equal(directives['frame-ancestors'], "'none'", `frame-ancestors in "${csp}"`);
    assert.equal(headers['x-content-type-options'], 'nosniff', 'X-Content-Type-Options');
    assert.equal(headers['referrer-policy'], 'no-referrer', 'Referrer-Policy');
  });

  await check('a wrong token is refused with the server\'s message in role="alert"', async () => {
    const input = page.getByLabel('Access token', { exact: true });
    await input.waitFor({ timeout: WAIT });
    assert.equal(await input.getAttribute('type'), 'password', 'the Access token input');
    await screenshot(page, '01-sign-in');
    expectRefusal = true;
    await page.getByLabel('Access token', { exact: true }).fill(`admin_${'A'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: /valid token/ });
    await alert.first().waitFor({ timeout: WAIT });
    expectRefusal = false;
    assert.equal(await page.getByText('Signed in as').count(), 0, 'signed in with a wrong token');
    await screenshot(page, '02-sign-in-refused');
  });

  await check('the admin signs in: "Signed in as admin (admin)"', async () => {
    await signIn(page, adminToken, 'Signed in as admin (admin)');
    await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor({ timeout: WAIT });
  });

  const checkStorage = async () => {
    const stored = await page.evaluate(() => ({
      local: Object.entries(localStorage).flat(),
      session: Object.entries(sessionStorage).flat(),
      cookie: document.cookie,
      url: location.href,
    }));
    assert.ok(!stored.url.includes(adminToken), `the token is in the URL ${stored.url}`);
    assert.ok(!stored.local.some((v) => v.includes(adminToken)), 'the token is in localStorage');
    assert.ok(stored.session.some((v) => v.includes(adminToken)), 'the token is not in sessionStorage');
    assert.ok(!stored.cookie.includes(adminToken), 'the token is in a cookie');
    const cookies = await admin.context.cookies();
    assert.ok(!cookies.some((c) => c.value.includes(adminToken)), 'the token is in a cookie');
    const leaked = visited.filter((url) => url.includes(adminToken) || url.includes(viewerToken));
    assert.deepEqual(leaked, [], 'a URL held a token');
  };
  await check('the token is in sessionStorage only: not in the URL, localStorage or a cookie', checkStorage);

  await check('the main navigation has its seven links', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const link of ['Dashboard', 'Releases', 'Rollouts', 'Packages', 'Collections', 'Clients', 'Distribution points']) {
      assert.equal(await nav.getByRole('link', { name: link, exact: true }).count(), 1, `link ${link}`);
    }
  });

  await check('the rollouts page lists every rollout with its state', async () => {
    await follow(page, 'Rollouts', 'Rollouts');
    for (const rollout of rollouts) {
      const text = await rowText(page, rollout.id, 'Rollouts');
      const { state } = await get(`/rollouts/${rollout.id}`);
      assert.ok(text.includes(state), `${rollout.id} is ${state}; its row says "${text}"`);
    }
    await screenshot(page, '06-rollouts');
  });

  if (completedId) {
    await check(`${completedId}: the Waves table and each wave's progress bar agree with its report`, async () => {
      const { seen } = await checkRolloutPage(page, completedId);
      console.log(`   ${completedId}: ${seen.join('; ')}`);
      await screenshot(page, `07-rollout-${completedId}`);
    });
  }

  await check(`${haltedId} (halted): the Waves table and progress bars agree with its report`, async () => {
    const { report, seen } = await checkRolloutPage(page, haltedId);
    assert.equal(report.rollout.state, 'halted', `${haltedId} is ${report.rollout.state}`);
    console.log(`   ${haltedId}: ${seen.join('; ')}`);
    const labels = await until('a chart (svg role="img" with an aria-label)', async () => {
      const found = (await page.getByRole('img').evaluateAll((images) => images
        .filter((e) => e.tagName.toLowerCase() === 'svg').map((svg) => svg.getAttribute('aria-label') || ''))).filter(Boolean);
      return found.length > 0 ? found : false;
    });
    console.log(`   chart: "${labels[0]}"`);
    await screenshot(page, `07-rollout-${haltedId}-halted`);
  });

  await check(`Resume ${haltedId} (Reason, Confirm): active on the page, the server and in the change log by admin`, async () => {
    await act(page, haltedId, 'Resume', 'active', 'browser test: resumed from the console');
  });

  await check('the dashboard shows the active rollouts and their waves\' progress as the server does', async () => {
    await follow(page, 'Dashboard', 'Dashboard');
    const active = (await get('/rollouts')).rollouts.filter((r) => r.state === 'active');
    assert.ok(active.some((r) => r.id === haltedId), `${haltedId} is not active on the server`);
    await shows(page, active.map((r) => r.id), 'the dashboard');
    for (const r of active) {
      for (const wave of r.waves) {
        // A bar named after the rollout and the wave (not in the contract) is compared as such.
        const named = page.getByRole('progressbar', { name: new RegExp(`${r.id}\\b.*\\bwave ${wave.number}\\b`, 'i') });
        if ((await named.count()) !== 1) continue;
        const now = Number(await named.getAttribute('aria-valuenow'));
        assert.ok(closeTo(now, wavePercent(wave)), `the dashboard's bar of ${r.id} wave ${wave.number}: ${now}, the server says ${wavePercent(wave)}%`);
      }
    }
    const expected = active.flatMap((r) => r.waves.map(wavePercent));
    const bars = page.getByRole('progressbar');
    const values = await until('the dashboard\'s progress bars', async () => {
      const found = await bars.evaluateAll((elements) => elements.map((e) => Number(e.getAttribute('aria-valuenow'))));
      return found.length >= expected.length ? found : false;
    });
    // Every wave of every active rollout has its bar, with the server's percentage.
    const unmatched = [...values];
    for (const percent of expected) {
      const i = unmatched.findIndex((v) => closeTo(v, percent));
      assert.ok(i >= 0, `no progress bar at ${percent}% (the server's) among ${JSON.stringify(values)}`);
      unmatched.splice(i, 1);
    }
    await screenshot(page, '03-dashboard');
  });

  await check(`at ${NARROW.width}x${NARROW.height} the dashboard and the rollout page do not overflow sideways`, async () => {
    await page.setViewportSize(NARROW);
    await screenshot(page, '03-dashboard-420');
    await checkNoOverflow(page, 'the dashboard');
    await open(page, `#/rollouts/${haltedId}`, `Rollout ${haltedId}`);
    await page.getByRole('table', { name: 'Waves', exact: true }).waitFor({ timeout: WAIT });
    await screenshot(page, `07-rollout-${haltedId}-420`);
    await checkNoOverflow(page, `the page of ${haltedId}`);
    await page.setViewportSize(WIDE);
  });

  await check(`Halt ${haltedId} (Reason, Confirm): halted on the page, the server and in the change log by admin`, async () => {
    await open(page, `#/rollouts/${haltedId}`, `Rollout ${haltedId}`);
    await act(page, haltedId, 'Halt', 'halted', 'browser test: halted again from the console');
    await screenshot(page, `07-rollout-${haltedId}`);
  });

  await check('a viewer sees Halt, Resume and the other actions disabled, with a title naming who may', async () => {
    const viewer = await newSession(browser, 'viewer');
    await viewer.page.goto(consoleUrl);
    const header = viewerName ? `Signed in as ${viewerName} (viewer)` : /Signed in as \S+ \(viewer\)/;
    await signIn(viewer.page, viewerToken, header);
    await open(viewer.page, `#/rollouts/${haltedId}`, `Rollout ${haltedId}`);
    await until('the viewer sees the rollout state', async () => (await rolloutState(viewer.page)) === 'halted');
    for (const name of ['Halt', 'Resume', 'Advance', 'Cancel rollout', 'Back out release']) {
      const button = viewer.page.getByRole('button', { name, exact: true });
      await button.waitFor({ timeout: WAIT });
      assert.ok(await button.isDisabled(), `${name} is enabled for a viewer`);
      const title = (await button.getAttribute('title')) || '';
      assert.ok(/admin/.test(title), `${name}'s title "${title}" does not say which roles may`);
    }
    await screenshot(viewer.page, '16-viewer-rollout');
    await viewer.context.close();
    activePage = page;
  });

  await check('the server refuses a viewer\'s resume and halt with 403 naming the role; the state stays', async () => {
    for (const action of ['resume', 'halt']) {
      const answer = await api('POST', `/rollouts/${haltedId}/${action}`, viewerToken, { reason: 'a viewer tries' });
      assert.equal(answer.status, 403, `POST ${action} as a viewer: ${answer.status} ${answer.text}`);
      assert.ok(/viewer/.test(answer.json?.message ?? ''), `the refusal "${answer.text}" does not name the role`);
    }
    assert.equal((await get(`/rollouts/${haltedId}`)).state, 'halted');
  });

  await check('the collections page lists the collections', async () => {
    await follow(page, 'Collections', 'Collections');
    await shows(page, collections.map((c) => c.name), 'Collections');
    await screenshot(page, '10-collections');
  });

  await check('the new-collection form refuses a bad name naming the field, and the server refuses a taken one', async () => {
    const name = page.getByLabel('Name', { exact: true });
    const create = page.getByRole('button', { name: 'Create collection', exact: true });
    await name.fill('no spaces allowed');
    await create.click();
    const local = await until('an alert naming the field', async () => {
      const texts = await page.getByRole('alert').allInnerTexts();
      return texts.find((t) => t.startsWith('Name:')) || false;
    });
    assert.equal(await name.getAttribute('aria-invalid'), 'true', 'the Name field is not marked invalid');
    assert.ok(await name.evaluate((e) => e === document.activeElement), 'focus is not on the Name field');
    // Valid in the page, refused by the server: its message (naming the collection) is shown.
    await name.fill(collections[0].name);
    await page.getByLabel('Query', { exact: true }).first().fill('has os.name');
    provokedStatus = 409;
    await create.click();
    const server = await until('the server\'s refusal', async () => {
      const texts = await page.getByRole('alert').allInnerTexts();
      return texts.find((t) => t.includes('refused') && t.includes(collections[0].name)) || false;
    });
    provokedStatus = null;
    const after = (await get('/collections')).collections.length;
    assert.equal(after, collections.length, 'a collection was created');
    console.log(`   "${local.trim()}"; "${server.trim()}"`);
  });

  await check(`collection ${collection}: a bad query shows "column N" as the server's preview says`, async () => {
    assert.ok(collection, 'no collection with a query');
    await open(page, `#/collections/${collection}`, `Collection ${collection}`);
    const query = page.getByLabel('Query', { exact: true });
    for (const bad of ['os.name == "Debian" and and', 'os.name = ']) {
      const server = (await api('POST', '/collections/preview', adminToken, { query: bad })).json;
      assert.equal(server.valid, false, `the server takes "${bad}"`);
      await query.fill(bad);
      const shown = await until(`an alert with "column ${server.column}" for "${bad}"`, async () => {
        const texts = await page.getByRole('alert').allInnerTexts();
        const text = texts.find((t) => /column \d+/.test(t));
        assert.ok(text, `alerts: ${JSON.stringify(texts)}`);
        assert.equal(Number(/column (\d+)/.exec(text)[1]), server.column, `"${text}" for "${bad}" (server: ${server.error})`);
        return text;
      });
      console.log(`   "${bad}": ${shown.trim()}`);
    }
    await screenshot(page, `11-collection-${collection}-error`);
  });

  await check(`collection ${collection}: a good query shows the server's member count in role="status"`, async () => {
    const good = 'hostname in ("ws-01", "ws-02")';
    const server = (await api('POST', '/collections/preview', adminToken, { query: good })).json;
    assert.equal(server.valid, true, `the server refuses "${good}": ${server.error}`);
    await page.getByLabel('Query', { exact: true }).fill(good);
    const shown = await until(`a status with ${server.count} for "${good}"`, async () => {
      const texts = await page.getByRole('status').allInnerTexts();
      return texts.find((t) => new RegExp(`(^|\\D)${server.count}(\\D|$)`).test(t) && /member|client|match/i.test(t)) || false;
    });
    await until('the column error is gone', async () => (await page.getByRole('alert').filter({ hasText: /column \d+/ }).count()) === 0);
    console.log(`   "${good}": ${shown.trim()} (server: ${server.count})`);
    await screenshot(page, `11-collection-${collection}-preview`);
  });

  await check('the packages pages show each package and version of the library', async () => {
    await follow(page, 'Packages', 'Packages');
    const names = [...new Set(packages.map((p) => p.name))];
    for (const name of names) {
      // The list: one row per package (its number of versions, the latest) or one per version.
      const versions = packages.filter((p) => p.name === name).map((p) => p.version);
      const latest = versions[versions.length - 1];
      const text = await rowText(page, name, 'Packages');
      assert.ok(text.includes(latest), `${name}'s row "${text}" does not show ${latest}`);
    }
    await page.getByLabel('Package file (.ferry)', { exact: true }).waitFor({ timeout: WAIT });
    await page.getByLabel('Signature (.minisig)', { exact: true }).waitFor({ timeout: WAIT });
    await page.getByRole('button', { name: 'Upload and register', exact: true }).waitFor({ timeout: WAIT });
    await screenshot(page, '08-packages');
    for (const name of names) {
      const versions = packages.filter((p) => p.name === name);
      await open(page, `#/packages/${name}`, `Package ${name}`);
      for (const p of versions) {
        const text = await until(`Package ${name}: a row for ${p.version}`, async () => {
          const rows = await page.getByRole('row').filter({ hasText: p.version }).allInnerTexts();
          return rows.find((r) => new RegExp(`(^|\\s)${p.version.replace(/\./g, '\\.')}(\\s|$)`).test(r)) || false;
        });
        assert.ok(text.includes(p.publisher), `${name} ${p.version}: "${text.replace(/\s+/g, ' ')}" does not name its signer ${p.publisher}`);
      }
      // Where each version is, as the DPs' heartbeats list it (GET /api/v1/dps: report.held).
      const dps = (await get('/dps')).dps.filter((d) => d.state === 'active');
      for (const p of versions) {
        const holders = dps.filter((d) => d.report && (d.report.held || []).includes(p.object_id)).map((d) => d.name);
        if (!holders.length) continue;
        const table = page.getByRole('table', { name: 'Versions and the distribution points that hold them' });
        const row = await until(`Package ${name} ${p.version}: held by ${holders.join(', ')}`, async () => {
          const rows = await table.getByRole('row').allInnerTexts();
          const found = rows.find((r) => r.trim().startsWith(p.version));
          return found && holders.every((h) => found.includes(h)) ? found : false;
        });
        console.log(`   ${name} ${p.version} held by ${holders.join(', ')}: "${row.replace(/\s+/g, ' ').trim()}"`);
      }
      await screenshot(page, `09-package-${name}`);
    }
  });

  await check('the clients page lists the agents\' hostnames', async () => {
    const hostnames = clients.map((c) => c.hostname);
    for (const host of (process.env.FERRY_HOSTNAMES || '').split(',').filter(Boolean)) {
      assert.ok(hostnames.includes(host), `the server has no client ${host}`);
    }
    await follow(page, 'Clients', 'Clients');
    await shows(page, hostnames, 'Clients');
    await screenshot(page, '12-clients');
    const first = clients[0];
    await open(page, `#/clients/${first.id}`, `Client ${first.hostname}`);
    await screenshot(page, `13-client-${first.hostname}`);
  });

  await check(`the distribution points page shows "${dpName}"`, async () => {
    await follow(page, 'Distribution points', 'Distribution points');
    await shows(page, dps.map((d) => d.name), 'Distribution points');
    await screenshot(page, '14-dps');
    await open(page, `#/dps/${dpName}`, `Distribution point ${dpName}`);
    await screenshot(page, `15-dp-${dpName}`);
  });

  await check('the releases page shows each release with the state the server gives', async () => {
    await follow(page, 'Releases', 'Releases');
    for (const release of releases) {
      const text = await rowText(page, release.reference, 'Releases');
      assert.ok(new RegExp(`(^|[^-\\w])${release.state}([^-\\w]|$)`).test(text),
        `${release.reference} is ${release.state}; its row says "${text}"`);
    }
    await screenshot(page, '04-releases');
    const release = releases.find((r) => r.reference === releaseRef);
    await open(page, `#/releases/${releaseRef}`, `Release ${releaseRef}`);
    await shows(page, [release.state], `Release ${releaseRef}`);
    // Its change log: every entry the server has whose subject names the release.
    const { entries } = await get(`/changelog?since=${release.created_at}&limit=10000`);
    const named = entries.filter((e) => String(e.subject).includes(releaseRef));
    assert.ok(named.length > 0, `the server logged nothing for ${releaseRef}`);
    const log = page.getByRole('table', { name: `Change-log entries whose subject names ${releaseRef}, oldest first` });
    await until(`Release ${releaseRef}: ${named.length} change-log rows`, async () =>
      (await log.getByRole('row').count()) === named.length + 1); // + the header row
    await screenshot(page, `05-release-${releaseRef}`);
  });

  await check('Sign out forgets the token and shows the sign-in form', async () => {
    await checkStorage();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByLabel('Access token', { exact: true }).waitFor({ timeout: WAIT });
    const left = await page.evaluate(() => [...Object.values(sessionStorage), ...Object.values(localStorage)]);
    assert.ok(!left.some((v) => v.includes(adminToken)), 'the token is still stored after Sign out');
  });

  await check('no page logged a CSP violation, a console error or an uncaught error', async () => {
    assert.deepEqual(problems, []);
    const without = responses.filter(([, headers]) => !headers['content-security-policy']).map(([url]) => url);
    assert.deepEqual([...new Set(without)], [], 'responses of the site without a Content-Security-Policy');
  });
}

try {
  await main();
  console.log(`all checks passed; screenshots in ${screenshotDir}`);
} catch (error) {
  console.log(`not ok - ${current}: ${error.message}`);
  if (problems.length) console.log(`   (console errors so far: ${problems.join(' / ')})`);
  process.exitCode = 1;
}
