// Building elements. Everything the server sends is text, and goes into the page as text:
// children given as strings become Text nodes, and there is deliberately no helper that takes
// HTML. Attributes are set with setAttribute (never style=, which the CSP would refuse anyway).

// h('a', {href: '#/x', class: 'link'}, 'text', child, [more, children])
// attrs: `class`, `text` (textContent), `on` ({event: handler}), `data` ({key: value}),
// boolean true sets an empty attribute, false/null/undefined leaves it out.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) setAttr(el, name, value);
  append(el, children);
  return el;
}

export const svgNs = 'http://www.w3.org/2000/svg';

// An SVG element: s('rect', {x: 1, width: '50%'}).
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attrs || {})) setAttr(el, name, value);
  append(el, children);
  return el;
}

function setAttr(el, name, value) {
  if (value === false || value === null || value === undefined) return;
  if (name === 'text') el.textContent = String(value);
  else if (name === 'on') for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
  else if (name === 'data') for (const [key, v] of Object.entries(value)) el.dataset[key] = String(v);
  else if (name === 'class' && Array.isArray(value)) el.setAttribute('class', value.filter(Boolean).join(' '));
  else el.setAttribute(name, value === true ? '' : String(value));
}

// Appends strings (as text), numbers, nodes and (nested) arrays; skips null, undefined, false.
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Replaces the content of `region` with `children`, for periodic refreshes: the element that
// had focus inside the region (a link, a summary) gets it back in the new content when an
// equivalent one exists, and open <details> stay open, so a refresh every few seconds neither
// throws a keyboard user back to the top nor folds up the log tail they were reading.
export function replaceContent(region, ...children) {
  const active = document.activeElement;
  const focusKey = active && region.contains(active) && active !== region ? keyOf(active) : null;
  const open = new Set([...region.querySelectorAll('details[open]')].map(keyOf));
  const fresh = document.createDocumentFragment();
  append(fresh, children);
  for (const d of fresh.querySelectorAll('details')) if (open.has(keyOf(d))) d.open = true;
  clear(region).append(fresh);
  if (focusKey) {
    const same = [...region.querySelectorAll('a, button, summary, [tabindex]')].find((el) => keyOf(el) === focusKey);
    if (same) same.focus({preventScroll: true});
  }
}

// What identifies an element across two renderings of the same data.
function keyOf(el) {
  if (el.dataset && el.dataset.key) return el.dataset.key;
  if (el.tagName === 'DETAILS') {
    const summary = el.querySelector('summary');
    return 'details:' + (summary ? summary.textContent : '');
  }
  return el.tagName + ':' + (el.getAttribute('href') || '') + ':' + el.textContent;
}
