// The web console in Firefox (Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core;
// Playwright drives only its own patched Firefox). The Chromium test (console.test.mjs) checks
// every page in depth; this one shows that the same pages work in the other engine: sign-in,
// every page drawn with what the API says, the query preview's error position, a viewer's
// disabled buttons, a narrow window, and no script error or CSP violation on the way.
//
// Environment: FERRY_CONSOLE_URL, FERRY_ADMIN_TOKEN, FERRY_VIEWER_TOKEN, FERRY_SCREENSHOT_DIR,
// FERRY_VIEWER_NAME, FERRY_HALTED_ROLLOUT, FERRY_COLLECTION, FERRY_RELEASE, FERRY_DP (as for
// console.test.mjs), and
// FERRY_FIREFOX (default /usr/bin/firefox-esr). Prints "ok - CHECK" per check; on the first
// failure "not ok - CHECK: WHY", saves firefox-FAILED.png and exits 1.
import assert from 'node:assert/strict';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { required } from './environment.mjs';

const consoleUrl = required('FERRY_CONSOLE_URL');
const adminToken = required('FERRY_ADMIN_TOKEN');
const viewerToken = required('FERRY_VIEWER_TOKEN');
const screenshotDir = required('FERRY_SCREENSHOT_DIR');
const rollout = required('FERRY_HALTED_ROLLOUT');
const collection = required('FERRY_COLLECTION');
const release = required('FERRY_RELEASE');
const dp = required('FERRY_DP');
const viewerName = required('FERRY_VIEWER_NAME');
const executablePath = process.env.FERRY_FIREFOX || '/usr/bin/firefox-esr';
const origin = new URL(consoleUrl).origin;
const WAIT = 20_000;

let current = 'starting';
let activePage = null;
const problems = []; // script errors, from every page
const pages = []; // every page signed in, for their CSP violations at the end

async function check(name, body) {
  current = name;
  await body();
  console.log(`ok - ${name}`);
}

async function api(token, route, init = {}) {
  const response = await fetch(origin + route, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...(init.headers || {}) },
  });
  return { status: response.status, body: await response.json() };
}

function shoot(page, name) {
  return page.screenshot({ path: path.join(screenshotDir, `firefox-${name}.png`), fullPage: true });
}

function watch(page) {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
}

// Signs in on a fresh page of `context` and waits for the header that says who.
async function signIn(context, token, who) {
  const page = await context.newPage();
  activePage = page;
  watch(page);
  await page.setViewport({ width: 1280, height: 800 });
  // CSP violations as the page itself sees them (the console log may not carry them).
  await page.evaluateOnNewDocument(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`));
  });
  pages.push(page);
  await page.goto(consoleUrl, { waitUntil: 'load' });
  await page.waitForSelector('input[type=password]', { timeout: WAIT });
  await page.type('input[type=password]', token);
  await page.locator('::-p-aria([name="Sign in"][role="button"])').click();
  await page.waitForFunction(
    (text) => document.body.textContent.includes(text), { timeout: WAIT }, `Signed in as ${who}`);
  return page;
}

// Goes to a route and waits until its <h1> says `heading` and the main text holds `text`.
async function visit(page, hash, heading, text = '') {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction(
    (h, t) => {
      const h1 = document.querySelector('main h1');
      return h1 && h1.textContent.trim() === h && document.querySelector('main').textContent.includes(t)
        && !document.querySelector('main .loading');
    },
    { timeout: WAIT }, heading, text);
}

async function main() {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    // A closed network: nothing in the background may try to reach out.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
    },
  });
  try {
    let admin;
    await check('Firefox: signed in as admin; the token only in sessionStorage', async () => {
      admin = await signIn(browser.defaultBrowserContext(), adminToken, 'admin (admin)');
      const stored = await admin.evaluate(() => [sessionStorage.getItem('ferry.token'), localStorage.length, location.href]);
      assert.equal(stored[0], adminToken);
      assert.equal(stored[1], 0);
      assert.ok(!stored[2].includes(adminToken), 'the token is in the URL');
    });

    await check('Firefox: the dashboard counts the clients the API counts', async () => {
      const summary = (await api(adminToken, '/api/v1/clients/summary')).body;
      await visit(admin, '#/', 'Dashboard', 'seen in the last day');
      const shown = await admin.evaluate(() => document.querySelector('main').textContent);
      assert.ok(shown.includes(`${summary.total}enrolled in all`) || shown.includes(`${summary.total} enrolled in all`)
        || new RegExp(`${summary.total}\\s*enrolled in all`).test(shown), `no "${summary.total} enrolled in all"`);
      await shoot(admin, '01-dashboard');
    });

    await check(`Firefox: ${rollout}'s waves agree with its report`, async () => {
      const report = (await api(adminToken, `/api/v1/rollouts/${rollout}/report`)).body;
      await visit(admin, `#/rollouts/${rollout}`, `Rollout ${rollout}`, 'Waves');
      const state = await admin.$eval('[data-testid="rollout-state"]', (e) => e.textContent.trim());
      assert.equal(state, report.rollout.state);
      const bars = await admin.$$eval('table [role="progressbar"]',
        (list) => list.map((e) => [e.getAttribute('aria-label'), e.getAttribute('aria-valuenow')]));
      assert.equal(bars.length, report.waves.length, 'one progress bar per wave');
      const chart = await admin.$eval('svg[role="img"]', (e) => e.getAttribute('aria-label'));
      assert.ok(chart, 'the chart has no label');
      await shoot(admin, '02-rollout');
    });

    await check(`Firefox: release ${release}, packages, clients and DP ${dp} pages draw`, async () => {
      const shown = (await api(adminToken, `/api/v1/releases/${release}`)).body;
      await visit(admin, `#/releases/${release}`, `Release ${release}`, shown.state);
      await shoot(admin, '03-release');
      const packages = (await api(adminToken, '/api/v1/packages')).body.packages;
      await visit(admin, '#/packages', 'Packages', packages[0].name);
      await shoot(admin, '04-packages');
      const clients = (await api(adminToken, '/api/v1/clients')).body.clients;
      await visit(admin, '#/clients', 'Clients', clients[0].hostname);
      await visit(admin, `#/dps/${dp}`, `Distribution point ${dp}`, dp);
      await shoot(admin, '05-dp');
    });

    await check('Firefox: a bad query shows the column the server names', async () => {
      const bad = 'os.name = "x"';
      const preview = (await api(adminToken, '/api/v1/collections/preview', {
        method: 'POST', body: JSON.stringify({ query: bad }),
      })).body;
      assert.equal(preview.valid, false);
      await visit(admin, `#/collections/${collection}`, `Collection ${collection}`, 'Query');
      const box = await admin.waitForSelector('::-p-aria([name="Query"][role="textbox"])', { timeout: WAIT });
      await box.evaluate((e) => { e.value = ''; });
      await box.type(bad);
      await admin.waitForFunction(
        (column) => [...document.querySelectorAll('[role="alert"]')]
          .some((e) => e.textContent.includes(`column ${column}`)),
        { timeout: WAIT }, preview.column);
      await shoot(admin, '06-collection-error');
    });

    await check('Firefox: at 420 px the dashboard does not overflow sideways', async () => {
      await admin.setViewport({ width: 420, height: 800 });
      await visit(admin, '#/', 'Dashboard', 'seen in the last day');
      const [scroll, client] = await admin.evaluate(
        () => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(scroll <= client, `scrollWidth ${scroll} > clientWidth ${client}`);
      await shoot(admin, '07-dashboard-420');
    });

    let viewer;
    await check('Firefox: a viewer signs in, in a context of its own', async () => {
      viewer = await signIn(await browser.createBrowserContext(), viewerToken, `${viewerName} (viewer)`);
    });
    await check(`Firefox: a viewer sees ${rollout}'s actions disabled`, async () => {
      await visit(viewer, `#/rollouts/${rollout}`, `Rollout ${rollout}`, 'Waves');
      for (const name of ['Halt', 'Resume', 'Advance', 'Cancel rollout']) {
        const disabled = await viewer.$eval(`::-p-aria([name="${name}"][role="button"])`, (e) => e.disabled);
        assert.equal(disabled, true, `${name} is enabled for a viewer`);
      }
      await shoot(viewer, '08-viewer-rollout');
    });

    await check('Firefox: no script error and no CSP violation on any page', async () => {
      // The detector itself works: an image from another origin (::1, loopback, never
      // contacted: the policy refuses it first) is reported.
      await admin.evaluate(() => {
        const probe = document.createElement('img');
        probe.src = 'http://[::1]:9/ferry-csp-probe.png';
        document.body.append(probe);
      });
      await admin.waitForFunction(
        () => window.cspViolations.some((v) => v.includes('ferry-csp-probe')), { timeout: WAIT });
      for (const page of pages) {
        const seen = await page.evaluate(() => window.cspViolations);
        problems.push(...seen.filter((v) => !v.includes('ferry-csp-probe')));
      }
      // (Firefox also reports the probe as a page error: that one is expected too.)
      assert.deepEqual(problems.filter((p) => !p.includes('ferry-csp-probe')), []);
    });
  } finally {
    await browser.close();
  }
}

try {
  await main();
} catch (error) {
  console.log(`not ok - ${current}: ${error.message}`);
  if (activePage) {
    await activePage.screenshot({ path: path.join(screenshotDir, 'firefox-FAILED.png') }).catch(() => {});
  }
  process.exit(1);
}
