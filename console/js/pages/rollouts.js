// #/rollouts: every rollout; #/rollouts/RO-N: one rollout, watched live — its waves, counts
// over time, failures with their log tails, the DPs serving it, and the actions that steer it
// (halt, resume, advance, cancel, back out the release).

import * as api from '../api.js';
import {h, replaceContent} from '../dom.js';
import {duration, plural} from '../format.js';
import {waveBar, historyChart} from '../charts.js';
import {actionBar} from '../actions.js';
import {can, needs} from '../permissions.js';
import {dataTable, defList, errorMessage, figure, link, loadError, loading, section, stateBadge, timeEl} from '../ui.js';

export async function render(ctx) {
  if (ctx.params[0]) return renderOne(ctx, ctx.params[0]);
  return renderList(ctx);
}

// --- the list -------------------------------------------------------------------------------

async function renderList(ctx) {
  ctx.title('Rollouts');
  const region = h('div', {}, loading('rollouts'));
  ctx.main.append(region);
  const draw = async () => {
    const {rollouts} = await api.get('/rollouts', {signal: ctx.signal});
    replaceContent(region, rolloutTable(rollouts.slice().reverse()));
  };
  try {
    await draw();
  } catch (err) {
    if (err.name === 'AbortError') return;
    replaceContent(region, loadError('the rollouts', err));
  }
  ctx.every(10000, draw);
}

function rolloutTable(rollouts) {
  return dataTable({
    caption: 'Rollouts, newest first',
    empty: 'No rollouts yet. A rollout is created with ferryctl rollout create (docs/operations.md).',
    rows: rollouts,
    columns: [
      {label: 'Rollout', cell: (r) => link(`#/rollouts/${encodeURIComponent(r.id)}`, r.id)},
      {label: 'Package', cell: (r) => packageLink(r.package)},
      {label: 'Action', cell: (r) => r.action},
      {label: 'Release', cell: (r) => r.release ? link(`#/releases/${encodeURIComponent(r.release)}`, r.release) : null},
      {label: 'Collection', cell: (r) => r.collection ? link(`#/collections/${encodeURIComponent(r.collection)}`, r.collection) : null},
      {label: 'State', cell: (r) => [stateBadge(r.state), r.backout ? ' backout' : null]},
      {label: 'Wave', cell: (r) => waveText(r)},
      {label: 'Succeeded', num: true, cell: (r) => succeededText(sumWaves(r.waves))},
      {label: 'Failed', num: true, cell: (r) => String(sumWaves(r.waves).failed)},
      {label: 'Created', cell: (r) => timeEl(r.created_at)},
    ],
  });
}

export function packageLink(ref) {
  if (!ref) return null;
  const name = String(ref).split('@')[0];
  return link(`#/packages/${encodeURIComponent(name)}`, ref);
}

function waveText(r) {
  const total = (r.waves || []).length;
  if (!r.current_wave) return `not started (${plural(total, 'wave')})`;
  return `${r.current_wave} of ${total}`;
}

export function sumWaves(waves) {
  const t = {members: 0, succeeded: 0, failed: 0, in_progress: 0};
  for (const w of waves || []) for (const k of Object.keys(t)) t[k] += w[k] || 0;
  return t;
}

function succeededText(t) {
  return `${t.succeeded} of ${t.members}`;
}

// --- one rollout ----------------------------------------------------------------------------

async function renderOne(ctx, idText) {
  ctx.title(`Rollout ${idText}`);
  const summary = h('div', {}, loading('the rollout'));
  const wavesRegion = h('div');
  const chartRegion = h('div');
  const failuresRegion = h('div');
  const dpsRegion = h('div');
  ctx.main.append(summary);

  let report;
  let release = null;
  let releaseError = null;
  const fetchAll = async () => {
    report = await api.get(`/rollouts/${api.seg(idText)}/report`, {signal: ctx.signal});
    release = null;
    releaseError = null;
    if (report.rollout.release) {
      try {
        release = await api.get(`/releases/${api.seg(report.rollout.release)}`, {signal: ctx.signal});
      } catch (err) {
        if (err.name === 'AbortError') throw err;
        releaseError = err;
      }
    }
  };

  try {
    await fetchAll();
  } catch (err) {
    if (err.name === 'AbortError') return;
    replaceContent(summary, loadError(`rollout ${idText}`, err));
    return;
  }

  const ro = () => report.rollout;
  ctx.title(`Rollout ${ro().id}`);
  const bar = actionBar(actionsFor(ro(), release, releaseError, ctx.me), {onDone: () => refresh().catch(() => {})});

  ctx.main.append(
    section('Actions', bar.element),
    section('Waves', wavesRegion),
    section('Clients per state over time', chartRegion),
    section('Failures', failuresRegion),
    section('Distribution points serving it', dpsRegion));

  function actionsFor(rollout, rel, relErr, me) {
    return rolloutActions(rollout, rel, relErr, me);
  }

  const draw = () => {
    const r = ro();
    replaceContent(summary, summaryList(r, release, releaseError));
    replaceContent(wavesRegion, wavesTable(r));
    replaceContent(chartRegion, historyChart(report.history, {title: r.id, until: r.state === 'active' || r.state === 'halted' ? Date.now() / 1000 : (r.completed_at || 0)}));
    replaceContent(failuresRegion, failuresList(report.failures || []));
    replaceContent(dpsRegion, dpsTable(report.dps || []));
    bar.update(actionsFor(r, release, releaseError, ctx.me));
  };
  const refresh = async () => {
    await fetchAll();
    draw();
  };
  draw();
  ctx.every(5000, refresh);
}

function summaryList(r, release, releaseError) {
  const waves = r.waves || [];
  return defList([
    ['State', h('span', {'data-testid': 'rollout-state', class: ['state', 'state-big', `tone-${toneFor(r.state)}`]}, r.state)],
    ['Reason', r.reason || null],
    ['Package', [packageLink(r.package), r.action ? ` (${r.action})` : '']],
    ['Release', r.release ? [link(`#/releases/${encodeURIComponent(r.release)}`, r.release),
      release ? [' ', stateBadge(release.state)] : releaseError ? ` (state unknown: ${errorMessage(releaseError)})` : ''] : null],
    ['Target collection', r.collection ? link(`#/collections/${encodeURIComponent(r.collection)}`, r.collection) : null],
    ['Advertisement', r.advertisement],
    ['Current wave', r.current_wave ? `${r.current_wave} of ${waves.length}` : `none started yet (${plural(waves.length, 'wave')})`],
    ['Thresholds', `a wave completes at ${r.success_threshold}% succeeded; the rollout halts above ${r.error_threshold}% failed in a wave`],
    ['Sign-off', r.sign_off ? 'each complete wave waits for Advance' : 'the next wave starts by itself'],
    r.backout ? ['Backout', 'yes: this rollout returns clients to their previous version'] : null,
    ['Created', [r.created_by ? `by ${r.created_by}, ` : '', timeEl(r.created_at)]],
    r.completed_at ? ['Completed', timeEl(r.completed_at)] : null,
  ]);
}

// The state word's colour; the word itself is the contract (data-testid="rollout-state").
function toneFor(state) {
  return {active: 'busy', halted: 'warn', completed: 'good', cancelled: 'plain'}[state] || 'plain';
}

function wavesTable(r) {
  return dataTable({
    caption: 'Waves',
    captionHidden: true, // the section's heading says it already
    empty: 'This rollout has no waves.',
    rows: r.waves || [],
    columns: [
      {label: 'Wave', cell: (w) => String(w.number)},
      {label: 'Target', cell: (w) => [w.collection ? link(`#/collections/${encodeURIComponent(w.collection)}`, w.collection) : `${w.percent}%`, w.pilot ? ' (pilot)' : '']},
      {label: 'State', cell: (w) => stateBadge(w.state)},
      {label: 'Members', num: true, cell: (w) => String(w.members)},
      {label: 'Succeeded', num: true, cell: (w) => String(w.succeeded)},
      {label: 'Failed', num: true, cell: (w) => w.failed_accepted ? `${w.failed} (${w.failed_accepted} accepted)` : String(w.failed)},
      {label: 'In progress', num: true, cell: (w) => String(w.in_progress)},
      {label: 'Not reported', num: true, cell: (w) => String(w.not_reported ?? Math.max(0, w.members - w.succeeded - w.failed - w.in_progress))},
      {label: 'Progress', cell: (w) => waveBar(w, `Wave ${w.number} progress`)},
      {label: 'Started', cell: (w) => timeEl(w.started_at, 'not yet')},
      {label: 'Completed', cell: (w) => timeEl(w.completed_at, 'not yet')},
    ],
  });
}

function failuresList(failures) {
  if (failures.length === 0) return h('p', {class: 'empty'}, 'No failures reported.');
  return failures.map((f) => {
    const code = f.exit_code === undefined || f.exit_code === null ? 'no exit code' : `exit code ${f.exit_code}`;
    const hostnames = f.hostnames || [];
    return h('article', {class: 'failure'},
      h('h3', {}, stateBadge(f.state), ` ${code}: ${plural(f.clients, 'client')}`),
      h('p', {}, hostnames.length < f.clients ? `Hosts (the first ${hostnames.length} of ${f.clients}): ` : 'Hosts: ',
        hostnames.join(', ') || '—'),
      f.log_tail ? [h('p', {class: 'help'}, 'Latest log tail:'), h('pre', {}, f.log_tail)] : h('p', {class: 'none'}, 'No log tail was reported.'));
  });
}

function dpsTable(dps) {
  return dataTable({
    caption: 'Distribution points whose collection holds clients of this rollout',
    empty: 'No distribution point serves clients of this rollout; they fetch from the site.',
    rows: dps,
    columns: [
      {label: 'Name', cell: (d) => link(`#/dps/${encodeURIComponent(d.name)}`, d.name)},
      {label: 'URL', cell: (d) => d.url ? h('span', {class: 'id'}, d.url) : null},
      {label: 'Last seen', cell: (d) => timeEl(d.last_seen_at, 'never')},
      {label: 'Lag', num: true, cell: (d) => figure(d.lag, (v) => duration(v))},
      {label: 'Synced since created', cell: (d) => d.synced_since_created ? 'yes' : 'not yet'},
      {label: 'Members', num: true, cell: (d) => String(d.clients ? d.clients.members : '')},
      {label: 'Succeeded', num: true, cell: (d) => String(d.clients ? d.clients.succeeded : '')},
      {label: 'Failed', num: true, cell: (d) => String(d.clients ? d.clients.failed : '')},
      {label: 'In progress', num: true, cell: (d) => String(d.clients ? d.clients.in_progress : '')},
    ],
  });
}

// --- actions --------------------------------------------------------------------------------

function rolloutActions(r, release, releaseError, me) {
  const mayAdvertise = can(me, 'advertise');
  const mayBackout = can(me, 'manage-releases');
  const last = (r.waves || []).length;
  const gate = (allowed, stateOk, why, permission) => ({
    enabled: allowed && stateOk,
    title: !allowed ? needs(permission) : stateOk ? null : why,
  });
  const post = (verb) => async (reason) => {
    const answer = await api.post(`/rollouts/${api.seg(r.id)}/${verb}`, reason ? {reason} : {});
    return `${answer.id || r.id} is now ${answer.state}${answer.reason ? `: ${answer.reason}` : ''}.`;
  };
  const releaseState = release ? release.state : null;
  return [
    {id: 'halt', label: 'Halt', prompt: `Halt ${r.id}?`, run: post('halt'),
      explain: 'Agents start nothing new for this advertisement until it is resumed.',
      ...gate(mayAdvertise, r.state === 'active', `only an active rollout can be halted (it is ${r.state})`, 'advertise')},
    {id: 'resume', label: 'Resume', prompt: `Resume ${r.id}?`, run: post('resume'),
      explain: 'The failures so far are accepted: only new ones count against the error threshold.',
      ...gate(mayAdvertise, r.state === 'halted', `only a halted rollout can be resumed (it is ${r.state})`, 'advertise')},
    {id: 'advance', label: 'Advance', prompt: `Advance ${r.id} to wave ${r.current_wave + 1}?`, run: post('advance'),
      explain: `Completes wave ${r.current_wave || 1} by sign-off and starts the next, whatever the thresholds say (never past the release's gate).`,
      ...gate(mayAdvertise, r.state === 'active' && r.current_wave < last,
        r.state !== 'active' ? `only an active rollout advances (it is ${r.state})` : `${r.id} is at its last wave`, 'advertise')},
    {id: 'cancel', label: 'Cancel rollout', danger: true, prompt: `Cancel ${r.id}?`, run: post('cancel'),
      explain: 'The advertisement leaves every client\'s policy. A cancelled rollout cannot be resumed.',
      ...gate(mayAdvertise, r.state === 'active' || r.state === 'halted', `only an active or halted rollout can be cancelled (it is ${r.state})`, 'advertise')},
    {id: 'backout', label: 'Back out release', danger: true, reasonMin: 10, reasonMax: 4000,
      prompt: `Back out ${r.release || 'the release'}?`,
      explain: 'Cancels every advertisement of the release and returns each client that installed it to the version it had before, in backout rollouts.',
      run: async (reason) => backoutAnswer(await api.post(`/releases/${api.seg(r.release)}/backout`, {reason})),
      ...gate(mayBackout, Boolean(r.release) && !r.backout && (releaseState === 'deploying' || releaseState === 'deployed'),
        r.backout ? 'this rollout is itself a backout'
          : releaseError ? `the release's state could not be read: ${errorMessage(releaseError)}`
            : `only a deploying or deployed release can be backed out (${r.release} is ${releaseState})`, 'manage-releases')},
  ];
}

// The answer of POST /releases/REF/backout, as a line with links to the backout rollouts.
export function backoutAnswer(answer) {
  const rollouts = answer.rollouts || [];
  const links = rollouts.flatMap((x, i) => [i ? ', ' : '', link(`#/rollouts/${encodeURIComponent(x.id)}`, x.id)]);
  return h('span', {},
    `${answer.release} is ${answer.state}: ${plural(answer.clients ?? 0, 'client')} to return`,
    rollouts.length ? [`, in ${plural(rollouts.length, 'backout rollout')}: `, ...links, '.'] : ' (no backout rollout was needed).');
}
