// #/dps: the distribution points; #/dps/NAME: one of them — where it is, what it serves, how
// far behind it is, and how fast it replicates against what its schedule allows right now.

import * as api from '../api.js';
import {h, replaceContent} from '../dom.js';
import {bytes, duration, rate} from '../format.js';
import {dataTable, defList, figure, link, loadError, loading, section, stateBadge, timeEl} from '../ui.js';

// A DP heartbeats every few seconds; a minute of silence means it is down or cut off.
export const STALE_AFTER_S = 60;

export async function render(ctx) {
  if (ctx.params[0]) return renderOne(ctx, ctx.params[0]);
  ctx.title('Distribution points');
  const region = h('div', {}, loading('distribution points'));
  ctx.main.append(region);
  const draw = async () => {
    const {dps} = await api.get('/dps', {signal: ctx.signal});
    replaceContent(region, dpTable(dps, {caption: 'Distribution points'}));
  };
  try {
    await draw();
  } catch (err) {
    if (err.name === 'AbortError') return;
    replaceContent(region, loadError('the distribution points', err));
    return;
  }
  ctx.every(10000, draw);
}

// Whether a DP is healthy as far as the site can tell: its state and heartbeat age.
export function health(dp, now = Date.now() / 1000) {
  if (dp.state !== 'active') return dp.state;
  if (typeof dp.last_seen_at !== 'number') return 'never reported';
  return now - dp.last_seen_at > STALE_AFTER_S ? 'stale' : 'ok';
}

export function dpTable(dps, {caption}) {
  return dataTable({
    caption,
    empty: 'No distribution points. Clients fetch from the site. An admin registers one with ferryctl dp add.',
    rows: dps,
    columns: [
      {label: 'Name', cell: (d) => link(`#/dps/${encodeURIComponent(d.name)}`, d.name)},
      {label: 'Health', cell: (d) => stateBadge(health(d))},
      {label: 'Last heartbeat', cell: (d) => timeEl(d.last_seen_at, 'never')},
      {label: 'Collection', cell: (d) => d.collection ? link(`#/collections/${encodeURIComponent(d.collection)}`, d.collection) : 'none'},
      {label: 'Replica', cell: (d) => d.replica ? 'yes' : 'no'},
      {label: 'Lag', num: true, cell: (d) => figure(report(d).lag, (v) => duration(v))},
      {label: 'Queue', num: true, cell: (d) => figure(report(d).queue, String)},
      {label: 'Throughput', num: true, cell: (d) => figure(report(d).throughput, rate)},
    ],
  });
}

function report(dp) {
  return dp.report || {};
}

async function renderOne(ctx, name) {
  ctx.title(`Distribution point ${name}`);
  const region = h('div', {}, loading('the distribution point'));
  ctx.main.append(region);
  const draw = async () => {
    const dp = await api.get(`/dps/${api.seg(name)}`, {signal: ctx.signal});
    replaceContent(region, dpDetail(dp));
  };
  try {
    await draw();
  } catch (err) {
    if (err.name === 'AbortError') return;
    replaceContent(region, loadError(`distribution point ${name}`, err));
    return;
  }
  ctx.every(10000, draw);
}

function dpDetail(dp) {
  const r = report(dp);
  const state = health(dp);
  return [
    defList([
      ['State', stateBadge(dp.state)],
      ['Health', [stateBadge(state), state === 'stale' ? ` no heartbeat for more than ${STALE_AFTER_S} s` : '']],
      ['URL', dp.url ? h('span', {class: 'id'}, dp.url) : 'not registered yet (it sends its URL with its first heartbeat)'],
      ['Collection served', dp.collection ? link(`#/collections/${encodeURIComponent(dp.collection)}`, dp.collection) : 'none: it serves no clients'],
      ['Last heartbeat', timeEl(dp.last_seen_at, 'never')],
      ['Replica', dp.replica ? 'yes: it holds every object of the library' : 'no: it holds what advertisements need'],
      ['Schedule', dp.schedule ? h('code', {}, dp.schedule) : 'none (unlimited)'],
      ['Registered', [dp.created_by ? `by ${dp.created_by}, ` : '', timeEl(dp.created_at)]],
    ]),
    section('Last heartbeat\'s figures',
      dp.report ? h('ul', {class: 'figures'},
        fig('Objects held', figure(r.objects, String)),
        fig('Bytes held', figure(r.bytes, bytes)),
        fig('Reports queued', figure(r.queue, String)),
        fig('Lag behind the feed', figure(r.lag, (v) => duration(v))),
        fig('Throughput', figure(r.throughput, rate)))
        : h('p', {class: 'empty'}, 'No heartbeat yet: the DP has not reported any figures.'),
      throughputAgainstSchedule(dp)),
  ];
}

function fig(label, value) {
  return h('li', {}, h('span', {class: 'value'}, value), h('span', {class: 'label'}, label));
}

// The throughput next to the rate the schedule allows now, as the site works it out with the
// parser the DP itself runs (schedule_now / schedule_rate), by the site's clock.
function throughputAgainstSchedule(dp) {
  const tp = report(dp).throughput;
  const tpText = typeof tp === 'number' ? `It replicates at ${rate(tp)}` : 'It has not reported its throughput';
  if (!dp.schedule) return h('p', {}, `${tpText}; it has no schedule, so no limit applies.`);
  const allowed = typeof dp.schedule_rate === 'number'
    ? (dp.schedule_rate === 0 ? 'a pause (no transfer starts)' : rate(dp.schedule_rate))
    : 'no limit';
  const share = typeof tp === 'number' && dp.schedule_rate > 0
    ? ` (${Math.round((tp * 100) / dp.schedule_rate)}% of it)` : '';
  return h('p', {},
    `${tpText}; the schedule allows ${allowed} now${share}. `,
    h('span', {class: 'note'}, 'By the site\'s clock and time zone; the DP applies its own local time.'));
}
