// #/collections: every collection and a form for a new one; #/collections/NAME: its
// definition, members, and an editor for its query with a live preview. Anyone may preview;
// saving needs the manage-collections permission (admin, release-manager).

import * as api from '../api.js';
import {h, clear, replaceContent} from '../dom.js';
import {plural} from '../format.js';
import {can, needs} from '../permissions.js';
import {queryEditor} from '../query_editor.js';
import {dataTable, defList, errorMessage, formFeedback, link, loadError, loading, section, stateBadge, timeEl} from '../ui.js';

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

export async function render(ctx) {
  if (ctx.params[0]) return renderOne(ctx, ctx.params[0]);
  ctx.title('Collections');
  const region = h('div', {}, loading('collections'));
  ctx.main.append(section('All collections', region));
  const draw = async () => {
    const {collections} = await api.get('/collections', {signal: ctx.signal});
    replaceContent(region, collectionTable(collections));
  };
  ctx.main.append(section('New collection', newCollectionForm(ctx, () => draw().catch(() => {}))));
  try {
    await draw();
  } catch (err) {
    if (err.name !== 'AbortError') replaceContent(region, loadError('the collections', err));
  }
}

function collectionTable(collections) {
  return dataTable({
    caption: 'Collections, oldest first',
    empty: 'No collections yet.',
    rows: collections,
    columns: [
      {label: 'Name', cell: (c) => link(`#/collections/${encodeURIComponent(c.name)}`, c.name)},
      {label: 'Kind', cell: (c) => (c.pilot ? 'pilot' : 'production')},
      {label: 'Definition', cell: (c) => definitionText(c)},
      {label: 'Members', num: true, cell: (c) => String(c.member_count)},
      {label: 'Evaluated', cell: (c) => timeEl(c.evaluated_at, 'not yet')},
    ],
  });
}

function definitionText(c) {
  const parts = [];
  if (c.query) parts.push(h('code', {}, c.query));
  else parts.push('static');
  if ((c.members || []).length) parts.push(`, ${plural(c.members.length, 'static member')}`);
  if ((c.include || []).length) parts.push(`, includes ${c.include.join(', ')}`);
  if ((c.exclude || []).length) parts.push(`, excludes ${c.exclude.join(', ')}`);
  return parts;
}

// "a, b\nc" -> ["a", "b", "c"]
function listOf(text) {
  return text.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
}

function newCollectionForm(ctx, onCreated) {
  const allowed = can(ctx.me, 'manage-collections');
  const name = h('input', {type: 'text', id: 'new-name', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'new-name-help', required: true});
  const description = h('input', {type: 'text', id: 'new-description', maxlength: '2000'});
  const pilot = h('input', {type: 'checkbox', id: 'new-pilot'});
  const editor = queryEditor({signal: ctx.signal});
  const members = h('textarea', {id: 'new-members', rows: '2', spellcheck: 'false', 'aria-describedby': 'new-members-help'});
  const include = h('input', {type: 'text', id: 'new-include', 'aria-describedby': 'new-include-help'});
  const button = h('button', {type: 'submit', class: 'primary', disabled: !allowed, title: allowed ? null : needs('manage-collections')}, 'Create collection');
  const {status, alertSlot, fail, reset} = formFeedback();

  async function submit() {
    reset([name, members, include]);
    const n = name.value.trim();
    if (!NAME_RE.test(n)) return fail('Name: 1 to 64 letters, digits, ".", "_" or "-".', name);
    if (n === 'preview') return fail('Name: "preview" is reserved.', name);
    const body = {name: n, description: description.value.trim(), pilot: pilot.checked,
      members: listOf(members.value), include: listOf(include.value), exclude: []};
    const query = editor.value().trim();
    if (query) body.query = query;
    if (!query && body.members.length === 0 && body.include.length === 0) {
      return fail('Query: give a query, static members or included collections (a collection needs one of them).', editor.textarea);
    }
    button.disabled = true;
    try {
      const c = await api.post('/collections', body);
      clear(status).append(`Created ${c.name} with ${plural(c.member_count, 'member')}. `, link(`#/collections/${encodeURIComponent(c.name)}`, `Collection ${c.name}`));
      onCreated();
    } catch (err) {
      fail(`Create collection refused: ${errorMessage(err)}`);
    } finally {
      button.disabled = !allowed;
    }
  }

  return h('form', {class: 'editor', novalidate: true, on: {submit: (e) => { e.preventDefault(); submit(); }}},
    allowed ? null : h('p', {class: 'note'}, `Creating collections ${needs('manage-collections')}; the query preview works for everyone.`),
    h('label', {for: 'new-name'}, 'Name'), name,
    h('p', {id: 'new-name-help', class: 'help'}, '1 to 64 letters, digits, ".", "_" or "-". Collections are not deleted.'),
    h('label', {for: 'new-description'}, 'Description'), description,
    h('div', {class: 'checkbox'}, pilot, h('label', {for: 'new-pilot'}, 'Pilot collection (reachable while the release is testing)')),
    editor.element,
    h('label', {for: 'new-members'}, 'Static members'), members,
    h('p', {id: 'new-members-help', class: 'help'}, 'Client ids (cl_…), separated by spaces, commas or lines. Optional.'),
    h('label', {for: 'new-include'}, 'Include collections'), include,
    h('p', {id: 'new-include-help', class: 'help'}, 'Names of older collections whose members it adds. Optional; a pilot collection includes only pilot ones.'),
    h('div', {class: 'button-row'}, button),
    alertSlot, status);
}

// --- one collection -------------------------------------------------------------------------

async function renderOne(ctx, name) {
  ctx.title(`Collection ${name}`);
  const definition = h('div', {}, loading('the collection'));
  ctx.main.append(definition);
  let c;
  try {
    c = await api.get(`/collections/${api.seg(name)}`, {signal: ctx.signal});
  } catch (err) {
    if (err.name !== 'AbortError') replaceContent(definition, loadError(`collection ${name}`, err));
    return;
  }
  const membersRegion = h('div');
  const redraw = () => {
    replaceContent(definition, definitionList(c));
    drawMembers(ctx, c, membersRegion);
  };
  redraw();
  ctx.main.append(
    section('Edit the query', editForm(ctx, () => c, (saved) => { c = saved; redraw(); })),
    section('Members', membersRegion));
}

function definitionList(c) {
  return defList([
    ['Kind', c.pilot ? 'pilot' : 'production'],
    ['Description', c.description || null],
    ['Query', c.query ? h('pre', {}, h('code', {}, c.query)) : 'none: static members and included collections only'],
    ['Static members', String((c.members || []).length)],
    ['Includes', (c.include || []).length ? c.include.map((n, i) => [i ? ', ' : '', link(`#/collections/${encodeURIComponent(n)}`, n)]) : 'none'],
    ['Excludes', (c.exclude || []).length ? c.exclude.map((n, i) => [i ? ', ' : '', link(`#/collections/${encodeURIComponent(n)}`, n)]) : 'none'],
    ['Members now', String(c.member_count)],
    ['Created', [c.created_by ? `by ${c.created_by}, ` : '', timeEl(c.created_at)]],
    ['Evaluated', timeEl(c.evaluated_at, 'not yet')],
  ]);
}

// The member ids, with hostnames and states from the client list (read once, first 10000).
const memberLimit = 1000;
async function drawMembers(ctx, c, region) {
  replaceContent(region, loading('members'));
  try {
    const [{members}, clients] = await Promise.all([
      api.get(`/collections/${api.seg(c.name)}/members`, {query: {limit: memberLimit}, signal: ctx.signal}),
      api.get('/clients', {query: {limit: 10000}, signal: ctx.signal}).then((x) => x.clients, () => []),
    ]);
    const byId = new Map(clients.map((x) => [x.id, x]));
    replaceContent(region, dataTable({
      caption: members.length < c.member_count ? `Members (the first ${members.length} of ${c.member_count})` : `Members (${members.length})`,
      empty: 'No members.',
      rows: members.map((id) => byId.get(id) || {id}),
      columns: [
        {label: 'Hostname', cell: (x) => link(`#/clients/${encodeURIComponent(x.id)}`, x.hostname || x.id)},
        {label: 'Client id', cell: (x) => h('span', {class: 'id'}, x.id)},
        {label: 'State', cell: (x) => (x.state ? stateBadge(x.state) : null)},
        {label: 'Last seen', cell: (x) => timeEl(x.last_seen_at, 'never')},
      ],
    }));
  } catch (err) {
    if (err.name !== 'AbortError') replaceContent(region, loadError('the members', err));
  }
}

// The query editor of an existing collection. Save sends the whole definition (the server
// replaces it): every other field keeps the value the collection has.
function editForm(ctx, current, onSaved) {
  const allowed = can(ctx.me, 'manage-collections');
  const editor = queryEditor({initial: current().query || '', signal: ctx.signal});
  const button = h('button', {type: 'submit', class: 'primary', disabled: !allowed, title: allowed ? null : needs('manage-collections')}, 'Save');
  const {status, alertSlot, fail, reset} = formFeedback();

  async function submit() {
    reset();
    const c = current();
    const query = editor.value().trim();
    const body = {name: c.name, description: c.description || '', members: c.members || [], include: c.include || [], exclude: c.exclude || [], pilot: Boolean(c.pilot)};
    if (query) body.query = query;
    if (!query && body.members.length === 0 && body.include.length === 0) {
      fail('Query: this collection has no static or included members, so it needs a query.', editor.textarea);
      return;
    }
    button.disabled = true;
    try {
      const saved = await api.post(`/collections/${api.seg(c.name)}`, body);
      status.textContent = `Saved: ${saved.name} now has ${plural(saved.member_count, 'member')}.`;
      onSaved(saved);
    } catch (err) {
      fail(`Save refused: ${errorMessage(err)}`);
    } finally {
      button.disabled = !allowed;
    }
  }

  return h('form', {class: 'editor', novalidate: true, on: {submit: (e) => { e.preventDefault(); submit(); }}},
    allowed ? null : h('p', {class: 'note'}, `Saving ${needs('manage-collections')}; you can still try queries here.`),
    editor.element,
    h('div', {class: 'button-row'}, button),
    alertSlot, status);
}
