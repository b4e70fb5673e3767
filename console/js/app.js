// The console's shell: signing in and out, the header, the hash router, and the periodic
// refresh of pages that watch something moving (the dashboard, a rollout).
//
// Each page is a module under pages/ exporting render(ctx); it is loaded when first visited.
// ctx gives it: main (where it draws), params (the route's parts), me (whoami), signal (aborted
// when the user leaves the page, so late answers are dropped), title(text) for its <h1>, and
// every(ms, fn) to be refreshed. A refresh only redraws what the page chooses; forms being
// edited are never redrawn.

import * as api from './api.js';
import {h, clear} from './dom.js';
import {alertBox, errorMessage} from './ui.js';

// [pattern, module, nav section]; the pattern's groups become ctx.params.
const routes = [
  [/^\/?$/, 'dashboard', 'dashboard'],
  [/^\/releases\/?$/, 'releases', 'releases'],
  [/^\/releases\/([^/]+)$/, 'releases', 'releases'],
  [/^\/rollouts\/?$/, 'rollouts', 'rollouts'],
  [/^\/rollouts\/([^/]+)$/, 'rollouts', 'rollouts'],
  [/^\/packages\/?$/, 'packages', 'packages'],
  [/^\/packages\/([^/]+)$/, 'packages', 'packages'],
  [/^\/collections\/?$/, 'collections', 'collections'],
  [/^\/collections\/([^/]+)$/, 'collections', 'collections'],
  [/^\/clients\/?$/, 'clients', 'clients'],
  [/^\/clients\/([^/]+)$/, 'clients', 'clients'],
  [/^\/dps\/?$/, 'dps', 'dps'],
  [/^\/dps\/([^/]+)$/, 'dps', 'dps'],
];

const navItems = [
  ['dashboard', '#/', 'Dashboard'],
  ['releases', '#/releases', 'Releases'],
  ['rollouts', '#/rollouts', 'Rollouts'],
  ['packages', '#/packages', 'Packages'],
  ['collections', '#/collections', 'Collections'],
  ['clients', '#/clients', 'Clients'],
  ['dps', '#/dps', 'Distribution points'],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const userBox = document.getElementById('user');

let me = null; // whoami's answer while signed in
let page = null; // {controller, timer} of the page on screen
let firstRender = true;

// --- signing in and out ---------------------------------------------------------------------

function showSignIn(message) {
  leavePage();
  me = null;
  clear(userBox);
  nav.hidden = true;
  clear(main);
  document.title = 'Sign in — Ferry console';
  const token = h('input', {id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-help'});
  const button = h('button', {type: 'submit', class: 'primary'}, 'Sign in');
  const alertSlot = h('div', {class: 'alert-slot'}, message ? alertBox(message) : null);
  const form = h('form', {class: 'sign-in', novalidate: true, on: {submit: (e) => { e.preventDefault(); signIn(token, button, alertSlot); }}},
    h('label', {for: 'token'}, 'Access token'),
    token,
    h('p', {id: 'token-help', class: 'help'},
      'A user token, as ferryctl user add or ferryd init printed it. It is kept in this tab only and forgotten when the tab closes.'),
    h('div', {class: 'button-row'}, button),
    alertSlot);
  main.append(h('h1', {tabindex: '-1'}, 'Sign in'), form);
  token.focus();
}

async function signIn(input, button, alertSlot) {
  const token = input.value.trim();
  clear(alertSlot);
  if (!token) {
    alertSlot.append(alertBox('Access token: paste a token first.'));
    input.focus();
    return;
  }
  button.disabled = true;
  api.setToken(token);
  try {
    me = await whoami();
  } catch (err) {
    api.forgetToken();
    button.disabled = false;
    // A 401 has already brought a fresh sign-in form with the message; anything else shows here.
    if (err.status !== 401) alertSlot.append(alertBox(`Sign-in failed: ${errorMessage(err)}`));
    return;
  }
  input.value = '';
  signedIn();
}

// While signing in, a refused token is the form's own alert, not a "session ended" message.
let signingIn = false;
async function whoami() {
  signingIn = true;
  try {
    return await api.get('/whoami');
  } finally {
    signingIn = false;
  }
}

function signedIn() {
  clear(userBox).append(
    h('span', {class: 'who'}, `Signed in as ${me.name} (${me.role})`),
    h('button', {type: 'button', on: {click: signOut}}, 'Sign out'));
  nav.hidden = false;
  route();
}

function signOut() {
  api.forgetToken();
  showSignIn();
}

api.setUnauthenticatedHandler((err) => {
  api.forgetToken();
  showSignIn(signingIn ? `The server refused the token: ${err.message}` : `Signed out: the server no longer accepts the token (${err.message}). Sign in again.`);
});

// --- the router -----------------------------------------------------------------------------

function leavePage() {
  if (!page) return;
  page.controller.abort();
  clearInterval(page.timer);
  page = null;
}

async function route() {
  if (!me) return;
  leavePage();
  const path = decodeURIComponentSafe(location.hash.replace(/^#/, ''));
  const match = routes.map(([re, module, section]) => ({m: re.exec(path), module, section})).find((x) => x.m);
  markNav(match ? match.section : null);
  // Each page draws into its own element: a page left while it was still loading may finish
  // drawing, but into an element no longer in the document.
  const view = h('div', {class: 'view'});
  clear(main).append(view);
  const controller = new AbortController();
  page = {controller, timer: null};
  const current = page;
  const focusHeading = !firstRender;
  firstRender = false;
  if (!match) {
    title(view, 'Page not found');
    view.append(alertBox(`There is no page at "${path}". Use the navigation above.`));
    return;
  }
  const ctx = {
    main: view, me, params: match.m.slice(1), signal: controller.signal,
    title: (text) => (controller.signal.aborted ? null : title(view, text)),
    every: (ms, fn) => every(current, view, ms, fn),
  };
  try {
    const module = await import(`./pages/${match.module}.js`);
    if (controller.signal.aborted) return;
    await module.render(ctx);
  } catch (err) {
    if (err.name === 'AbortError' || controller.signal.aborted || err.status === 401) return;
    if (!view.querySelector('h1')) title(view, 'Error');
    view.append(alertBox(`This page could not be shown: ${errorMessage(err)}`));
  }
  if (focusHeading && !controller.signal.aborted) {
    const heading = view.querySelector('h1');
    if (heading && !main.contains(document.activeElement)) heading.focus();
  }
}

function decodeURIComponentSafe(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// The page's one <h1> (focusable from script: it takes focus when the page changes, so a
// screen reader starts there), and the window title.
function title(view, text) {
  let heading = view.querySelector('h1');
  if (!heading) {
    heading = h('h1', {tabindex: '-1'});
    view.prepend(heading);
  }
  heading.textContent = text;
  document.title = `${text} — Ferry console`;
  return heading;
}

function markNav(section) {
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// --- refreshing -----------------------------------------------------------------------------

// Calls fn every ms while the page is on screen, the tab is visible and the user has not turned
// refreshing off; one call at a time. A bar under the <h1> says when it last worked.
function every(current, view, ms, fn) {
  if (current.controller.signal.aborted || current.timer !== null) return;
  const toggle = h('input', {type: 'checkbox', id: 'auto-refresh', checked: true});
  const stamp = h('span', {class: 'stamp'}, `Updated ${new Date().toLocaleTimeString()}`);
  const bar = h('div', {class: 'refresh-bar'},
    h('span', {}, toggle, ' ', h('label', {for: 'auto-refresh'}, `Refresh every ${Math.round(ms / 1000)} s`)), stamp);
  const heading = view.querySelector('h1');
  if (heading) heading.after(bar);
  else view.prepend(bar);
  let busy = false;
  current.timer = setInterval(async () => {
    if (busy || !toggle.checked || document.hidden || current.controller.signal.aborted) return;
    busy = true;
    try {
      await fn();
      stamp.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      stamp.classList.remove('stale');
    } catch (err) {
      if (err.name !== 'AbortError' && err.status !== 401) {
        // Not an alert: it would be announced every few seconds. The old figures stay, marked.
        stamp.textContent = `Refresh failed at ${new Date().toLocaleTimeString()}: ${errorMessage(err)}; the figures shown may be out of date`;
        stamp.classList.add('stale');
      }
    } finally {
      busy = false;
    }
  }, ms);
}

// --- start ----------------------------------------------------------------------------------

function buildNav() {
  const list = h('ul', {}, navItems.map(([section, href, text]) => h('li', {}, h('a', {href, data: {section}}, text))));
  nav.append(list);
}

async function start() {
  buildNav();
  document.getElementById('skip').addEventListener('click', (e) => {
    // A plain #main-content link would be taken for a route; move focus by hand instead.
    e.preventDefault();
    main.focus();
  });
  window.addEventListener('hashchange', route);
  if (!api.getToken()) {
    showSignIn();
    return;
  }
  try {
    me = await api.get('/whoami');
  } catch (err) {
    if (err.status === 401) return; // the handler shows sign-in with the message
    nav.hidden = true;
    clear(main).append(h('h1', {tabindex: '-1'}, 'Ferry console'),
      alertBox(`Could not ask the server who you are: ${errorMessage(err)}`),
      h('button', {type: 'button', on: {click: () => location.reload()}}, 'Try again'),
      ' ',
      h('button', {type: 'button', on: {click: signOut}}, 'Sign in with another token'));
    return;
  }
  signedIn();
}

start();
