// A collection query being typed, previewed live: ~300 ms after the last keystroke the query
// goes to POST /api/v1/collections/preview (any role may preview; nothing is saved). A valid
// query shows its member count in a status line; an invalid one shows "column N: message" in an
// alert and marks the column under the query. Answers that arrive after a newer keystroke are
// dropped, so the preview always matches the text in the box.

import * as api from './api.js';
import {h, clear} from './dom.js';
import {byteOffsetToIndex, plural} from './format.js';
import {errorMessage} from './ui.js';

const debounceMs = 300;
let editors = 0;

export function queryEditor({initial = '', signal}) {
  const n = ++editors;
  const id = `query-${n}`;
  const textarea = h('textarea', {id, rows: '4', spellcheck: 'false', autocomplete: 'off',
    'aria-describedby': `query-help-${n} query-marker-${n}`}, initial);
  const marker = h('pre', {id: `query-marker-${n}`, class: 'query-marker', hidden: true});
  const status = h('p', {role: 'status', class: 'status neutral'});
  const alertSlot = h('div', {class: 'alert-slot'});
  const sample = h('div');
  let timer = null;
  let sequence = 0;
  let lastAlert = '';

  function showError(message, column, query) {
    status.textContent = '';
    clear(sample);
    textarea.setAttribute('aria-invalid', 'true');
    const text = column > 0 ? `column ${column}: ${message}` : message;
    // Re-announce only when the error changed, not on every keystroke that keeps it.
    if (text !== lastAlert) {
      clear(alertSlot).append(h('p', {role: 'alert', class: 'alert'}, text));
      lastAlert = text;
    }
    markColumn(marker, query, column);
  }

  function showOk(text) {
    textarea.removeAttribute('aria-invalid');
    clear(alertSlot);
    lastAlert = '';
    marker.hidden = true;
    status.textContent = text;
  }

  async function preview() {
    const query = oneLine(textarea.value);
    const mine = ++sequence;
    if (query.trim() === '') {
      showOk('No query: the collection has only its static and included members.');
      clear(sample);
      return;
    }
    try {
      const answer = await api.post('/collections/preview', {query}, {signal});
      if (mine !== sequence) return;
      if (answer.valid) {
        showOk(`${plural(answer.count, 'client')} ${answer.count === 1 ? 'matches' : 'match'} the query.`);
        clear(sample).append(sampleList(answer.members || [], answer.count));
      } else {
        // The server's text may already carry its position ("query: column 12: …"); it is
        // said once, as "column 12: …".
        showError(String(answer.error).replace(/^(query: )?column \d+: /, ''), answer.column || 0, textarea.value);
      }
    } catch (err) {
      if (err.name === 'AbortError' || mine !== sequence) return;
      showError(`Preview failed: ${errorMessage(err)}`, 0, query);
    }
  }

  textarea.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(preview, debounceMs);
  });
  if (signal) signal.addEventListener('abort', () => clearTimeout(timer));
  preview();

  const element = h('div', {class: 'query-editor'},
    h('label', {for: id}, 'Query'),
    textarea,
    h('p', {id: `query-help-${n}`, class: 'help'},
      'For example: os.name == "Debian" and hw.memory_mb >= 4096 (docs/collections.md). Previewed as you type; nothing is saved until you save.'),
    marker, alertSlot, status, sample);
  return {element, textarea, value: () => oneLine(textarea.value), focus: () => textarea.focus()};
}

// The server takes a query as one line (a line break is a control character it refuses); the
// box may wrap it over several for reading. Each break becomes a space, one for one, so the
// server's column still points at the same character of the text in the box.
function oneLine(text) {
  return text.replace(/[\r\n\t]/g, ' ');
}

function sampleList(members, count) {
  if (members.length === 0) return null;
  return h('details', {},
    h('summary', {}, members.length < count ? `The first ${members.length} of them` : 'Which clients'),
    h('ul', {class: 'columns'}, members.map((id) => h('li', {}, h('a', {href: `#/clients/${encodeURIComponent(id)}`, class: 'id'}, id)))));
}

// Shows the line of the query holding the error's column with that character highlighted and
// a caret under it. `column` is 1-based over the whole query, counted in bytes as the server's
// parser counts; 0 means the error has no position.
export function markColumn(marker, query, column) {
  clear(marker);
  if (!column) {
    marker.hidden = true;
    return;
  }
  const index = byteOffsetToIndex(query, column - 1);
  const lineStart = query.lastIndexOf('\n', index - 1) + 1;
  const lineEndRaw = query.indexOf('\n', index);
  const lineEnd = lineEndRaw < 0 ? query.length : lineEndRaw;
  const line = query.slice(lineStart, lineEnd);
  const at = index - lineStart;
  const ch = line.slice(at, at + 1) || ' '; // past the end: mark the place after the last character
  marker.append(
    h('span', {class: 'visually-hidden'}, `The error is at column ${column}: `),
    line.slice(0, at), h('mark', {}, ch), line.slice(at + 1), '\n',
    h('span', {class: 'caret', 'aria-hidden': 'true'}, `${' '.repeat(at)}^ column ${column}`));
  marker.hidden = false;
}
