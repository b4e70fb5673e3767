// The console's recurring pieces: tables, definition lists, times, state words, messages.
// Built with dom.js, so every server string lands as text.

import {h, clear} from './dom.js';
import {localDateTime, relative} from './format.js';

// <time> with the local date-time and how long ago; `none` when the server sent no time.
export function timeEl(unix, none = '—') {
  if (typeof unix !== 'number') return h('span', {class: 'none'}, none);
  const iso = new Date(unix * 1000).toISOString();
  return h('time', {datetime: iso, title: iso}, `${localDateTime(unix)} (${relative(unix)})`);
}

// Which colour family a state word belongs to. The word itself is always shown, so the colour
// only repeats what the text says.
const tone = {
  good: ['succeeded', 'installed', 'uninstalled', 'complete', 'completed', 'deployed', 'closed', 'approved', 'implemented', 'go', 'ok', 'healthy'],
  bad: ['failed', 'rolled-back', 'refused', 'backed-out', 'rejected', 'no-go', 'revoked', 'error'],
  busy: ['active', 'started', 'deploying', 'in progress', 'downloading', 'downloaded', 'installing', 'uninstalling', 'waiting', 'available', 'testing', 'building'],
  warn: ['halted', 'suspended', 'pending', 'stale', 'postponed', 'submitted', 'never reported'],
};

export function toneOf(state) {
  for (const [name, words] of Object.entries(tone)) if (words.includes(state)) return name;
  return 'plain';
}

export function stateBadge(state) {
  const word = state === undefined || state === null || state === '' ? 'unknown' : String(state);
  return h('span', {class: ['state', `tone-${toneOf(word)}`]}, word);
}

// A table with a caption and scoped headers, in a wrapper that scrolls sideways on a narrow
// window (focusable, so a keyboard user can scroll it too).
// columns: [{label, cell: (row) => node|string, num: true for right-aligned figures}]
// The first column is the row header unless rowHeader is false.
export function dataTable({caption, columns, rows, empty, rowHeader = true, captionHidden = false, className}) {
  if (!rows || rows.length === 0) return h('p', {class: 'empty'}, empty || 'Nothing to show.');
  const head = h('tr', {}, columns.map((c) => h('th', {scope: 'col', class: c.num ? 'num' : null}, c.label)));
  const body = rows.map((row) =>
    h('tr', {}, columns.map((c, i) => {
      const cell = c.cell(row);
      const content = cell === undefined || cell === null || cell === '' ? h('span', {class: 'none'}, '—') : cell;
      return rowHeader && i === 0 ? h('th', {scope: 'row'}, content) : h('td', {class: c.num ? 'num' : null}, content);
    })),
  );
  const table = h('table', {class: className},
    h('caption', {class: captionHidden ? 'visually-hidden' : null}, caption),
    h('thead', {}, head),
    h('tbody', {}, body));
  return h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption}, table);
}

// <dl> of [term, value] pairs; pairs whose value is undefined are left out.
export function defList(pairs) {
  return h('dl', {class: 'facts'}, pairs.filter((p) => p && p[1] !== undefined).map(([term, value]) => [
    h('dt', {}, term),
    h('dd', {}, value === null || value === '' ? h('span', {class: 'none'}, '—') : value),
  ]));
}

// A section with its heading (level 2 by default). Deliberately not labelled by the heading:
// that would make every section a landmark region and give it an accessible name that
// label-based lookups ("Query", "Reason") would also match.
export function section(title, ...children) {
  return sectionAt(2, title, ...children);
}
export function sectionAt(level, title, ...children) {
  return h('section', {}, h(`h${level}`, {}, title), ...children);
}

// An error of loading or of an action, announced at once.
export function alertBox(message) {
  return h('p', {role: 'alert', class: 'alert'}, message);
}

// A form's feedback: a status line for what happened and a slot for what went wrong. fail()
// shows a message and, given the field at fault, marks it invalid and moves focus to it;
// reset() clears both and the fields' marks before the next attempt.
export function formFeedback() {
  const status = h('p', {role: 'status', class: 'status'});
  const alertSlot = h('div', {class: 'alert-slot'});
  return {
    status,
    alertSlot,
    fail(message, field) {
      clear(alertSlot).append(alertBox(message));
      if (field) {
        field.setAttribute('aria-invalid', 'true');
        field.focus();
      }
    },
    reset(fields = []) {
      clear(alertSlot);
      status.textContent = '';
      for (const f of fields) f.removeAttribute('aria-invalid');
    },
  };
}

export function errorMessage(err) {
  if (!err) return 'unknown error';
  return err.message || String(err);
}

// "Could not load X: message" for a part of a page that failed (the rest still shows).
export function loadError(what, err) {
  return alertBox(`Could not load ${what}: ${errorMessage(err)}`);
}

export function loading(what = '') {
  return h('p', {class: 'loading'}, what ? `Loading ${what}…` : 'Loading…');
}

export function link(href, text) {
  return h('a', {href}, text);
}

// A number, or a dash when the server did not send one: never a made-up zero.
export function figure(value, format = String) {
  return typeof value === 'number' ? format(value) : h('span', {class: 'none'}, 'not reported');
}
