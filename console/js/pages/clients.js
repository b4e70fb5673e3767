// #/clients: the enrolled clients, a page at a time (the server pages by row position with
// after/limit), with a hostname filter over the page loaded; #/clients/ID: one client — state,
// enrolment, inventory (facts, installed software) and its history of advertisement reports.

import * as api from '../api.js';
import {h, replaceContent} from '../dom.js';
import {dataTable, defList, link, loadError, loading, section, stateBadge, timeEl} from '../ui.js';

const pageSize = 100;

export async function render(ctx) {
  if (ctx.params[0]) return renderOne(ctx, ctx.params[0]);
  ctx.title('Clients');
  const filter = h('input', {type: 'search', id: 'client-filter', autocomplete: 'off', spellcheck: 'false'});
  const previous = h('button', {type: 'button', disabled: true}, 'Previous page');
  const next = h('button', {type: 'button', disabled: true}, 'Next page');
  const pageNote = h('p', {class: 'note'});
  const region = h('div', {}, loading('clients'));
  ctx.main.append(
    h('div', {class: 'toolbar'}, h('div', {}, h('label', {for: 'client-filter'}, 'Filter by hostname'), filter),
      h('div', {class: 'button-row'}, previous, next)),
    pageNote, region);

  // The `after` of every page visited, so "Previous page" can go back (the server has no
  // "before").
  const afters = [0];
  let clients = [];
  let nextAfter = null;

  const draw = () => {
    const needle = filter.value.trim().toLowerCase();
    const shown = needle ? clients.filter((c) => String(c.hostname).toLowerCase().includes(needle)) : clients;
    const first = (afters.length - 1) * pageSize;
    pageNote.textContent = clients.length
      ? `Page ${afters.length}: clients ${first + 1} to ${first + clients.length} in enrolment order` +
        (needle ? `; ${shown.length} of them match "${filter.value.trim()}" (the filter reads this page only).` : '.')
      : '';
    replaceContent(region, dataTable({
      caption: needle ? `Clients on this page whose hostname contains "${filter.value.trim()}"` : 'Clients, in enrolment order',
      empty: clients.length ? 'No client on this page matches the filter.' : 'No clients have enrolled yet.',
      rows: shown,
      columns: [
        {label: 'Hostname', cell: (c) => link(`#/clients/${encodeURIComponent(c.id)}`, c.hostname)},
        {label: 'Client id', cell: (c) => h('span', {class: 'id'}, c.id)},
        {label: 'State', cell: (c) => stateBadge(c.state)},
        {label: 'Enrolled', cell: (c) => timeEl(c.enrolled_at)},
        {label: 'Last seen', cell: (c) => timeEl(c.last_seen_at, 'never')},
        {label: 'Inventory', cell: (c) => timeEl(c.inventory_at, 'none yet')},
      ],
    }));
  };

  const load = async () => {
    replaceContent(region, loading('clients'));
    try {
      const answer = await api.get('/clients', {query: {after: afters[afters.length - 1], limit: pageSize}, signal: ctx.signal});
      clients = answer.clients;
      nextAfter = clients.length === pageSize ? answer.next_after : null;
      draw();
    } catch (err) {
      if (err.name !== 'AbortError') replaceContent(region, loadError('the clients', err));
    }
    previous.disabled = afters.length === 1;
    next.disabled = nextAfter === null;
  };

  filter.addEventListener('input', draw);
  next.addEventListener('click', () => { afters.push(nextAfter); load(); });
  previous.addEventListener('click', () => { afters.pop(); load(); });
  await load();
}

async function renderOne(ctx, id) {
  ctx.title(`Client ${id}`);
  const region = h('div', {}, loading('the client'));
  ctx.main.append(region);
  let c;
  try {
    c = await api.get(`/clients/${api.seg(id)}`, {signal: ctx.signal});
  } catch (err) {
    if (err.name !== 'AbortError') replaceContent(region, loadError(`client ${id}`, err));
    return;
  }
  ctx.title(`Client ${c.hostname}`);
  const historyRegion = h('div', {}, loading('the history'));
  replaceContent(region,
    defList([
      ['Client id', h('span', {class: 'id'}, c.id)],
      ['State', stateBadge(c.state)],
      ['Enrolled', timeEl(c.enrolled_at)],
      ['Last seen', timeEl(c.last_seen_at, 'never')],
      ['Inventory', c.inventory_at ? [timeEl(c.inventory_at), ` (report ${c.inventory_seq})`] : 'none reported yet'],
    ]),
    section('History', historyRegion),
    section('Facts', factsTable(c.facts || {})),
    section('Installed software', softwareTable(c.software || [])));
  try {
    const answer = await api.get(`/clients/${api.seg(c.id)}/history`, {query: {limit: 200}, signal: ctx.signal});
    replaceContent(historyRegion, historyTable(answer.history || []));
  } catch (err) {
    if (err.name !== 'AbortError') replaceContent(historyRegion, loadError('the history', err));
  }
}

function factsTable(facts) {
  const rows = Object.entries(facts).sort((a, b) => a[0].localeCompare(b[0]));
  return dataTable({
    caption: 'Facts from the last inventory',
    empty: 'No facts reported.',
    rows,
    columns: [
      {label: 'Fact', cell: ([k]) => h('code', {}, k)},
      {label: 'Value', cell: ([, v]) => String(v)},
    ],
  });
}

// Up to tens of thousands of packages: a filter, and at most `shownMax` rows at once.
const shownMax = 100;
function softwareTable(software) {
  if (software.length === 0) return h('p', {class: 'empty'}, 'No software reported.');
  const sorted = software.slice().sort((a, b) => a.name.localeCompare(b.name));
  const filter = h('input', {type: 'search', id: 'software-filter', autocomplete: 'off', spellcheck: 'false'});
  const region = h('div');
  const draw = () => {
    const needle = filter.value.trim().toLowerCase();
    const matching = needle ? sorted.filter((s) => s.name.toLowerCase().includes(needle)) : sorted;
    const shown = matching.slice(0, shownMax);
    replaceContent(region, dataTable({
      caption: shown.length < matching.length ? `Installed software (the first ${shown.length} of ${matching.length}; filter to narrow)`
        : `Installed software (${matching.length}${needle ? ` of ${sorted.length}` : ''})`,
      empty: 'No package matches the filter.',
      rows: shown,
      columns: [
        {label: 'Name', cell: (s) => s.name},
        {label: 'Version', cell: (s) => s.version},
      ],
    }));
  };
  filter.addEventListener('input', draw);
  draw();
  return [h('div', {class: 'toolbar'}, h('div', {}, h('label', {for: 'software-filter'}, 'Filter by name'), filter)), region];
}

function historyTable(history) {
  return dataTable({
    caption: 'Reports on advertisements, newest first',
    empty: 'No reports from this client yet.',
    rows: history,
    columns: [
      {label: 'When', cell: (e) => timeEl(e.at)},
      {label: 'Advertisement', cell: (e) => e.advertisement},
      {label: 'Package', cell: (e) => e.package},
      {label: 'State', cell: (e) => stateBadge(e.state)},
      {label: 'Exit code', num: true, cell: (e) => (e.exit_code === undefined || e.exit_code === null ? null : String(e.exit_code))},
      {label: 'Log tail', cell: (e) => e.log_tail ? h('details', {}, h('summary', {}, 'Show'), h('pre', {}, e.log_tail)) : null},
      {label: 'Received', cell: (e) => timeEl(e.received_at)},
    ],
  });
}
