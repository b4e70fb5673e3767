// #/: what needs attention now — rollouts in progress (or halted) wave by wave with their
// failures, the distribution points' health, and how many clients checked in lately. Each part
// loads on its own, so one failing call does not blank the others; refreshed every 5 s.

import * as api from '../api.js';
import {h, replaceContent} from '../dom.js';
import {plural} from '../format.js';
import {waveBar} from '../charts.js';
import {dpTable, health} from './dps.js';
import {packageLink} from './rollouts.js';
import {alertBox, errorMessage, link, loadError, loading, section, stateBadge} from '../ui.js';

export async function render(ctx) {
  ctx.title('Dashboard');
  const rolloutsRegion = h('div', {}, loading('rollouts'));
  const dpsRegion = h('div', {}, loading('distribution points'));
  const clientsRegion = h('div', {}, loading('clients'));
  ctx.main.append(
    section('Rollouts in progress', rolloutsRegion),
    section('Distribution points', dpsRegion),
    section('Clients', clientsRegion));

  const draw = async () => {
    const results = await Promise.allSettled([
      drawRollouts(rolloutsRegion, ctx.signal),
      drawDps(dpsRegion, ctx.signal),
      drawClients(clientsRegion, ctx.signal),
    ]);
    // A refresh that failed entirely (the server is down) is reported by the refresh bar.
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length === results.length) throw failed[0].reason;
  };
  await draw().catch(() => {});
  ctx.every(5000, draw);
}

// Each part: on failure, an alert in its place (not thrown further) unless the request was
// aborted; the error is re-thrown so the refresh bar can tell when everything failed.
async function part(region, what, signal, build) {
  try {
    replaceContent(region, await build());
  } catch (err) {
    if (err.name === 'AbortError' || signal.aborted) throw err;
    replaceContent(region, loadError(what, err));
    throw err;
  }
}

function drawRollouts(region, signal) {
  return part(region, 'the rollouts', signal, async () => {
    const {rollouts} = await api.get('/rollouts', {signal});
    const live = rollouts.filter((r) => r.state === 'active' || r.state === 'halted').reverse();
    if (live.length === 0) {
      return h('p', {class: 'empty'}, rollouts.length ? 'No rollout is active or halted. ' : 'No rollouts yet. ',
        link('#/rollouts', 'All rollouts'));
    }
    // The failure groups come from each rollout's report; a report that fails to load leaves
    // that card with the rollout's own counts and says so.
    const reports = await Promise.allSettled(live.map((r) => api.get(`/rollouts/${api.seg(r.id)}/report`, {signal})));
    return [
      h('p', {}, `${plural(live.length, 'rollout')} active or halted. `, link('#/rollouts', 'All rollouts')),
      live.map((r, i) => rolloutCard(reports[i].status === 'fulfilled' ? reports[i].value.rollout : r, reports[i])),
    ];
  });
}

function rolloutCard(r, reportResult) {
  const waves = r.waves || [];
  const failures = reportResult.status === 'fulfilled' ? reportResult.value.failures || [] : null;
  const totalFailed = waves.reduce((n, w) => n + (w.failed || 0), 0);
  return h('article', {class: 'rollout-card', 'aria-label': `Rollout ${r.id}`},
    h('h3', {}, link(`#/rollouts/${encodeURIComponent(r.id)}`, r.id), ' ', packageLink(r.package), ' ', stateBadge(r.state),
      h('span', {class: 'note'}, r.current_wave ? `wave ${r.current_wave} of ${waves.length}` : 'no wave started')),
    r.reason ? h('p', {class: r.state === 'halted' ? 'warning' : 'note'}, r.reason) : null,
    waves.map((w) => h('div', {class: 'wave-line'},
      h('span', {}, `Wave ${w.number}`, ' ', h('span', {class: 'note'}, w.state)),
      waveBar(w, `Rollout ${r.id} wave ${w.number} progress`),
      h('span', {class: 'counts'}, `${w.succeeded}/${w.members} succeeded, ${w.failed} failed, ${w.in_progress} in progress`))),
    h('p', {}, totalFailed === 0 ? 'No failures.' : `${plural(totalFailed, 'client')} failed`,
      failures && failures.length ? [': ', failures.slice(0, 3).map((f, i) => [i ? '; ' : '',
        `${f.state}${f.exit_code !== undefined && f.exit_code !== null ? ` (exit code ${f.exit_code})` : ''}: ${f.clients}`])] : '',
      failures && failures.length > 3 ? `; ${failures.length - 3} more group(s) on the rollout's page` : ''),
    reportResult.status === 'rejected' ? alertBox(`The report of ${r.id} could not be loaded: ${errorMessage(reportResult.reason)}`) : null);
}

function drawDps(region, signal) {
  return part(region, 'the distribution points', signal, async () => {
    const {dps} = await api.get('/dps', {signal});
    const active = dps.filter((d) => d.state === 'active');
    const troubled = active.filter((d) => health(d) !== 'ok');
    const revoked = dps.length - active.length;
    return [
      active.length === 0 ? null : h('p', {class: troubled.length ? 'warning' : null},
        troubled.length === 0 ? (active.length === 1 ? 'The active distribution point sent a heartbeat in the last minute.' : `All ${active.length} active distribution points sent a heartbeat in the last minute.`)
          : `${troubled.length} of ${plural(active.length, 'active distribution point')} ${troubled.length === 1 ? 'has' : 'have'} not sent a heartbeat in the last minute: ${troubled.map((d) => d.name).join(', ')}.`),
      dpTable(active, {caption: 'Active distribution points'}),
      revoked ? h('p', {class: 'note'}, `${plural(revoked, 'revoked distribution point')} not shown. `, link('#/dps', 'All distribution points')) : null,
    ];
  });
}

function drawClients(region, signal) {
  return part(region, 'the client summary', signal, async () => {
    const s = await api.get('/clients/summary', {signal});
    const item = (value, label) => h('li', {}, h('span', {class: 'value'}, String(value)), h('span', {class: 'label'}, label));
    return [
      h('ul', {class: 'figures'},
        item(s.seen_last_day, 'seen in the last day'),
        item(s.seen_last_hour, 'seen in the last hour'),
        item(s.active, 'active'),
        item(s.pending, 'pending approval'),
        item(s.revoked, 'revoked'),
        item(s.total, 'enrolled in all')),
      h('p', {class: 'note'}, 'Seen: a request to the site, or one to a distribution point that it relayed ' +
        '(at most once a minute per client, so up to a minute and a sync late).'),
      s.total === 0 ? h('p', {class: 'empty'}, 'No clients have enrolled yet.') : link('#/clients', 'All clients'),
    ];
  });
}
