// #/releases: every release and its state; #/releases/REF: one release — its RFCs and their
// votes, packages, the readiness checklist with sign-offs, what its deployment did, the
// post-deployment review, the change-log entries about it, and "Back out release".

import * as api from '../api.js';
import {h, replaceContent} from '../dom.js';
import {duration} from '../format.js';
import {actionBar} from '../actions.js';
import {can, needs} from '../permissions.js';
import {backoutAnswer, packageLink} from './rollouts.js';
import {dataTable, defList, figure, link, loadError, loading, section, stateBadge, timeEl} from '../ui.js';

export async function render(ctx) {
  if (ctx.params[0]) return renderOne(ctx, ctx.params[0]);
  ctx.title('Releases');
  const region = h('div', {}, loading('releases'));
  ctx.main.append(region);
  try {
    const {releases} = await api.get('/releases', {signal: ctx.signal});
    replaceContent(region, releaseTable(releases.slice().reverse()));
  } catch (err) {
    if (err.name !== 'AbortError') replaceContent(region, loadError('the releases', err));
  }
}

function releaseTable(releases) {
  return dataTable({
    caption: 'Releases, newest first',
    empty: 'No releases yet. A release carries approved RFCs and registered packages (ferryctl release create).',
    rows: releases,
    columns: [
      {label: 'Reference', cell: (r) => link(`#/releases/${encodeURIComponent(r.reference)}`, r.reference)},
      {label: 'Title', cell: (r) => r.title},
      {label: 'State', cell: (r) => stateBadge(r.state)},
      {label: 'Priority', cell: (r) => r.priority},
      {label: 'RFCs', cell: (r) => (r.rfcs || []).join(', ')},
      {label: 'Packages', cell: (r) => (r.packages || []).map((p, i) => [i ? ', ' : '', packageLink(p)])},
      {label: 'Updated', cell: (r) => timeEl(r.updated_at)},
    ],
  });
}

async function renderOne(ctx, ref) {
  ctx.title(`Release ${ref}`);
  const summary = h('div', {}, loading('the release'));
  ctx.main.append(summary);
  let release;
  const load = async () => {
    release = await api.get(`/releases/${api.seg(ref)}`, {signal: ctx.signal});
  };
  try {
    await load();
  } catch (err) {
    if (err.name !== 'AbortError') replaceContent(summary, loadError(`release ${ref}`, err));
    return;
  }
  ctx.title(`Release ${release.reference}`);

  const checklist = h('div');
  const review = h('div');
  const bar = actionBar(backoutAction(release, ctx.me), {
    onDone: async () => {
      try {
        await load();
        drawState();
        reportRegion.replaceWith(reportRegion = deploymentReport(ctx, release.reference));
      } catch (err) {
        if (err.name !== 'AbortError') replaceContent(summary, loadError(`release ${ref}`, err));
      }
    },
  });
  let reportRegion = deploymentReport(ctx, release.reference);

  function drawState() {
    replaceContent(summary, releaseSummary(release));
    replaceContent(checklist, readiness(release));
    replaceContent(review, closingReview(release));
    bar.update(backoutAction(release, ctx.me));
  }
  drawState();

  const reportSection = section('What the deployment did', reportRegion);
  ctx.main.append(
    section('Actions', bar.element),
    section('Requests for change', rfcList(ctx, release.rfcs || [])),
    section('Packages', packageList(release.packages || [])),
    section('Readiness checklist', checklist),
    reportSection,
    section('Post-deployment review', review),
    section('Change log', changelogRegion(ctx, release.reference, release.created_at)));
}

function releaseSummary(r) {
  return defList([
    ['Title', r.title],
    ['State', [stateBadge(r.state), r.suspended_from ? ` (suspended from ${r.suspended_from})` : '']],
    ['Priority', r.priority],
    ['Review round', String(r.review_round)],
    ['Created', [r.created_by ? `by ${r.created_by}, ` : '', timeEl(r.created_at)]],
    ['Updated', timeEl(r.updated_at)],
    ['Description', r.description ? h('p', {class: 'prose'}, r.description) : null],
  ]);
}

function backoutAction(r, me) {
  const allowed = can(me, 'manage-releases');
  const stateOk = r.state === 'deploying' || r.state === 'deployed';
  return [{
    id: 'backout', label: 'Back out release', danger: true, reasonMin: 10, reasonMax: 4000,
    prompt: `Back out ${r.reference}?`,
    explain: 'Cancels every advertisement of the release and returns each client that installed it to the version it had before, in backout rollouts.',
    enabled: allowed && stateOk,
    title: !allowed ? needs('manage-releases') : stateOk ? null : `only a deploying or deployed release can be backed out (it is ${r.state})`,
    run: async (reason) => backoutAnswer(await api.post(`/releases/${api.seg(r.reference)}/backout`, {reason})),
  }];
}

// Each RFC as a disclosure: its title and state in the summary, its votes inside.
function rfcList(ctx, numbers) {
  if (numbers.length === 0) return h('p', {class: 'empty'}, 'This release carries no RFC.');
  return numbers.map((number) => {
    const region = h('details', {class: 'rfc'}, h('summary', {}, number), loading(number));
    api.get(`/rfcs/${api.seg(number)}`, {signal: ctx.signal}).then((rfc) => {
      replaceContent(region, h('summary', {}, `${rfc.number}: ${rfc.title} `, stateBadge(rfc.state)), rfcDetail(rfc));
    }, (err) => {
      if (err.name !== 'AbortError') replaceContent(region, h('summary', {}, `${number} (could not be loaded)`), loadError(number, err));
    });
    return region;
  });
}

function rfcDetail(rfc) {
  return [
    defList([
      ['Requested by', [rfc.requester, ', ', timeEl(rfc.created_at)]],
      ['Risk', rfc.risk],
      ['Approvals needed', String(rfc.needed)],
      ['Business need', rfc.business_need || null],
      ['Description', rfc.description ? h('p', {class: 'prose'}, rfc.description) : null],
      ['Releases carrying it', (rfc.releases || []).map((r, i) => [i ? ', ' : '', link(`#/releases/${encodeURIComponent(r)}`, r)])],
    ]),
    dataTable({
      caption: `Votes on ${rfc.number}`,
      empty: 'No votes yet.',
      rows: rfc.votes || [],
      columns: [
        {label: 'Voter', cell: (v) => v.voter},
        {label: 'Decision', cell: (v) => stateBadge(v.decision === 'approve' ? 'approved' : v.decision === 'reject' ? 'rejected' : v.decision)},
        {label: 'Reason', cell: (v) => v.reason},
        {label: 'When', cell: (v) => timeEl(v.at)},
      ],
    }),
  ];
}

function packageList(packages) {
  if (packages.length === 0) return h('p', {class: 'empty'}, 'No packages.');
  return h('ul', {}, packages.map((p) => h('li', {}, packageLink(p))));
}

function readiness(r) {
  const items = r.readiness || [];
  const pending = items.filter((i) => i.decision !== 'go').length;
  return [
    h('p', {}, r.state === 'testing'
      ? (pending ? `Review round ${r.review_round}: ${pending} of ${items.length} items still need a go.` : `Review round ${r.review_round}: every item has a go.`)
      : `The readiness review is signed while the release is testing (round ${r.review_round}).`),
    dataTable({
      caption: `Readiness checklist, review round ${r.review_round}`,
      empty: 'No checklist.',
      rows: items,
      columns: [
        {label: 'Item', cell: (i) => String(i.item)},
        {label: 'What', cell: (i) => i.text},
        {label: 'Signed by role', cell: (i) => i.role},
        {label: 'Decision', cell: (i) => stateBadge(i.decision)},
        {label: 'Sign-offs', cell: (i) => (i.signoffs || []).length === 0 ? h('span', {class: 'none'}, 'none')
          : h('ul', {class: 'plain'}, i.signoffs.map((s) => h('li', {}, `${s.signer}: ${s.decision}`, s.note ? ` — ${s.note}` : '', ', ', timeEl(s.at))))},
      ],
    }),
  ];
}

function closingReview(r) {
  if (!r.closing_review) {
    return h('p', {class: 'empty'}, r.state === 'closed' ? 'No review was recorded.' : 'Written when the release is closed (ferryctl release transition REF closed --reason …).');
  }
  const results = r.closing_results;
  return [
    h('p', {class: 'prose'}, r.closing_review),
    results ? h('p', {class: 'note'}, `Results when it closed: ${results.succeeded} succeeded, ${results.failed} failed, ${results.rolled_back} rolled back.`) : null,
  ];
}

function deploymentReport(ctx, ref) {
  const region = h('div', {}, loading('the release report'));
  api.get(`/releases/${api.seg(ref)}/report`, {signal: ctx.signal}).then((report) => {
    replaceContent(region, releaseReport(report));
  }, (err) => {
    if (err.name !== 'AbortError') replaceContent(region, loadError('the release report', err));
  });
  return region;
}

function releaseReport(rep) {
  const ads = rep.advertisements || [];
  const item = (value, label) => h('li', {}, h('span', {class: 'value'}, value), h('span', {class: 'label'}, label));
  return [
    h('ul', {class: 'figures'},
      item(String(rep.succeeded), 'clients succeeded'),
      item(String(rep.failed), 'failed or refused'),
      item(String(rep.rolled_back), 'rolled back (health check)'),
      item(figure(rep.duration_s, (v) => duration(v)), 'from first advertisement to finish')),
    defList([
      ['Started', timeEl(rep.started_at, 'not yet: no advertisement')],
      ['Finished', timeEl(rep.finished_at, 'not yet')],
    ]),
    dataTable({
      caption: 'Advertisements of the release',
      empty: 'No advertisements yet.',
      rows: ads,
      columns: [
        {label: 'Advertisement', cell: (a) => a.advertisement},
        {label: 'Package', cell: (a) => packageLink(a.package)},
        {label: 'Action', cell: (a) => a.action},
        {label: 'Collection', cell: (a) => link(`#/collections/${encodeURIComponent(a.collection)}`, a.collection)},
        {label: 'State', cell: (a) => stateBadge(a.state)},
        {label: 'Targeted', num: true, cell: (a) => String(a.targeted)},
        {label: 'Reports', cell: (a) => Object.entries(a.counts || {}).map(([s, n]) => `${s}: ${n}`).join(', ') || 'none yet'},
        {label: 'Rollout', cell: (a) => a.rollout ? link(`#/rollouts/${encodeURIComponent(a.rollout.rollout.id)}`, a.rollout.rollout.id) : 'none'},
      ],
    }),
  ];
}

// The change log has no filter by subject; it is read page by page from the release's creation
// on (nothing before it can name it) and the entries whose subject names this release are kept.
// At most `maxPages` pages, saying so if cut short.
const pageSize = 1000;
const maxPages = 50;

function changelogRegion(ctx, ref, since) {
  const region = h('div', {}, loading('the change log'));
  (async () => {
    const found = [];
    let after = 0;
    let pages = 0;
    let complete = false;
    while (pages < maxPages) {
      const page = await api.get('/changelog', {query: {since: since || 0, after, limit: pageSize}, signal: ctx.signal});
      pages += 1;
      for (const e of page.entries) if (String(e.subject).includes(ref)) found.push(e);
      if (page.entries.length < pageSize) {
        complete = true;
        break;
      }
      after = page.next_after;
    }
    replaceContent(region,
      complete ? null : h('p', {class: 'warning'}, `Only the first ${pages * pageSize} entries of the change log since the release was created were searched.`),
      dataTable({
        caption: `Change-log entries whose subject names ${ref}, oldest first`,
        empty: `No change-log entry names ${ref}.`,
        rows: found,
        columns: [
          {label: 'When', cell: (e) => timeEl(e.at)},
          {label: 'Who', cell: (e) => e.actor},
          {label: 'Action', cell: (e) => h('code', {}, e.action)},
          {label: 'Subject', cell: (e) => e.subject},
          {label: 'Before', cell: (e) => e.before},
          {label: 'After', cell: (e) => e.after},
        ],
      }));
  })().catch((err) => {
    if (err.name !== 'AbortError') replaceContent(region, loadError('the change log', err));
  });
  return region;
}
