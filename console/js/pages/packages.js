// #/packages: the library (DSL) by package name, and the upload form for packagers and admins;
// #/packages/NAME: every version of a package — signer, size, who registered it, retired — and
// where its objects are replicated, as far as the site knows.

import * as api from '../api.js';
import {h, clear, replaceContent} from '../dom.js';
import {bytes} from '../format.js';
import {can, needs} from '../permissions.js';
import {dataTable, errorMessage, formFeedback, link, loadError, loading, section, stateBadge, timeEl} from '../ui.js';

export async function render(ctx) {
  if (ctx.params[0]) return renderOne(ctx, ctx.params[0]);
  ctx.title('Packages');
  const region = h('div', {}, loading('the library'));
  ctx.main.append(section('Library', region));
  const draw = async () => {
    const {packages} = await api.get('/packages', {signal: ctx.signal});
    replaceContent(region, libraryTable(packages));
  };
  ctx.main.append(section('Upload a package', can(ctx.me, 'upload-objects')
    ? uploadForm(() => draw().catch((err) => replaceContent(region, loadError('the library', err))))
    : h('p', {class: 'note'}, `Uploading packages ${needs('upload-objects')}. ferry-pack push does the same from a terminal.`)));
  try {
    await draw();
  } catch (err) {
    if (err.name === 'AbortError') return;
    replaceContent(region, loadError('the library', err));
  }
}

// One row per package name, from the flat list of versions.
function libraryTable(versions) {
  const byName = new Map();
  for (const v of versions) {
    if (!byName.has(v.name)) byName.set(v.name, []);
    byName.get(v.name).push(v);
  }
  const rows = [...byName.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([name, list]) => {
    const latest = list.reduce((a, b) => (b.registered_at >= a.registered_at ? b : a)); // ties: the later in the list
    return {name, list, latest};
  });
  return dataTable({
    caption: 'Packages by name',
    empty: 'No packages in the library yet.',
    rows,
    columns: [
      {label: 'Name', cell: (r) => link(`#/packages/${encodeURIComponent(r.name)}`, r.name)},
      {label: 'Versions', num: true, cell: (r) => String(r.list.length)},
      {label: 'Latest registered', cell: (r) => r.latest.version},
      {label: 'Signer', cell: (r) => [...new Set(r.list.map((v) => v.publisher))].join(', ')},
      {label: 'Size (latest)', num: true, cell: (r) => bytes(r.latest.size)},
      {label: 'Retired', num: true, cell: (r) => String(r.list.filter((v) => v.retired_at).length)},
      {label: 'Registered', cell: (r) => timeEl(r.latest.registered_at)},
    ],
  });
}

async function renderOne(ctx, name) {
  ctx.title(`Package ${name}`);
  const region = h('div', {}, loading('the package'));
  ctx.main.append(region);
  let versions;
  try {
    ({packages: versions} = await api.get(`/packages/${api.seg(name)}`, {signal: ctx.signal}));
  } catch (err) {
    if (err.name === 'AbortError') return;
    replaceContent(region, loadError(`package ${name}`, err));
    return;
  }
  replaceContent(region,
    section('Versions', versionTable(versions)),
    section('Where it is replicated', replicationRegion(ctx, versions)));
}

function versionTable(versions) {
  return dataTable({
    caption: 'Versions, in the order they were registered',
    empty: 'No versions.',
    rows: versions,
    columns: [
      {label: 'Version', cell: (v) => v.version},
      {label: 'Signer (publisher)', cell: (v) => v.publisher},
      {label: 'Size', num: true, cell: (v) => bytes(v.size)},
      {label: 'Object', cell: (v) => h('span', {class: 'id', title: v.object_id}, `${v.object_id.slice(0, 16)}…`)},
      {label: 'Registered by', cell: (v) => v.registered_by},
      {label: 'Registered', cell: (v) => timeEl(v.registered_at)},
      {label: 'Retired', cell: (v) => v.retired_at ? [stateBadge('retired'), ' ', timeEl(v.retired_at)] : 'no'},
    ],
  });
}

// Where each version is: the site holds them all; a distribution point lists the objects it
// holds in its heartbeat (report.held, as of its last heartbeat), unless it holds more than it
// lists, in which case only what it should hold can be said (a replica holds the whole library;
// another DP fetches what advertisements name).
function replicationRegion(ctx, versions) {
  const region = h('div', {}, loading('distribution points'));
  (async () => {
    try {
      const [{dps}, {advertisements}] = await Promise.all([
        api.get('/dps', {signal: ctx.signal}),
        api.get('/advertisements', {signal: ctx.signal}),
      ]);
      replaceContent(region, replication(versions, dps.filter((d) => d.state === 'active'), advertisements));
    } catch (err) {
      if (err.name !== 'AbortError') replaceContent(region, loadError('where it is replicated', err));
    }
  })();
  return region;
}

// One DP's standing for one version: 'held', 'missing' (it listed its objects and this is not
// among them), or 'unlisted' (it did not list them; 'expected' says whether it should hold it).
function standing(dp, version, advertised) {
  const held = dp.report && Array.isArray(dp.report.held) ? dp.report.held : null;
  if (held) return held.includes(version.object_id) ? 'held' : 'missing';
  return dp.replica || advertised ? 'unlisted-expected' : 'unlisted';
}

function dpList(names) {
  return names.length ? names.map((n, i) => [i ? ', ' : '', link(`#/dps/${encodeURIComponent(n)}`, n)]) : 'none';
}

function replication(versions, dps, advertisements) {
  const advertisedBy = (v) => advertisements.filter((a) => a.package === `${v.name}@${v.version}`).map((a) => a.id);
  const named = (v, which) => dps.filter((d) => standing(d, v, advertisedBy(v).length > 0) === which).map((d) => d.name);
  return [
    h('p', {}, 'The site holds every version. ',
      dps.length === 0 ? 'There is no active distribution point.'
        : 'Each distribution point lists the objects it holds in its heartbeat (a few seconds old at most while it runs). ' +
          'A replica fetches the whole library; another distribution point fetches what advertisements name.'),
    dataTable({
      caption: 'Versions and the distribution points that hold them',
      rows: versions,
      columns: [
        {label: 'Version', cell: (v) => v.version},
        {label: 'Advertised by', cell: (v) => advertisedBy(v).join(', ') || 'no advertisement'},
        {label: 'Held by', cell: (v) => dpList(named(v, 'held'))},
        {label: 'Not held by', cell: (v) => dpList(named(v, 'missing'))},
        {label: 'Not listed by (should hold it)', cell: (v) => dpList(named(v, 'unlisted-expected'))},
      ],
    }),
  ];
}

// --- upload ---------------------------------------------------------------------------------

// Two files: the package and its minisign signature. The object goes up first (POST
// /api/v1/objects, named by its hash on the server), then the package is registered with the
// signature text (POST /api/v1/packages), which is where the server verifies the signer.
function uploadForm(onRegistered) {
  const packageInput = h('input', {type: 'file', id: 'upload-package', accept: '.ferry', 'aria-describedby': 'upload-help'});
  const signatureInput = h('input', {type: 'file', id: 'upload-signature', accept: '.minisig'});
  const button = h('button', {type: 'submit', class: 'primary'}, 'Upload and register');
  const progress = h('progress', {max: '100', value: '0', hidden: true, 'aria-label': 'Upload progress'});
  const {status, alertSlot, fail, reset} = formFeedback();

  async function submit() {
    reset([packageInput, signatureInput]);
    const file = packageInput.files[0];
    const sigFile = signatureInput.files[0];
    if (!file) return fail('Package file (.ferry): choose the package to upload.', packageInput);
    if (!sigFile) return fail('Signature (.minisig): choose the package\'s signature file.', signatureInput);
    if (sigFile.size > 8192) return fail('Signature (.minisig): larger than 8 KiB, so not a minisign signature.', signatureInput);
    const signature = await sigFile.text();
    if (!signature.startsWith('untrusted comment:')) {
      return fail('Signature (.minisig): not a minisign signature (its text starts with "untrusted comment:").', signatureInput);
    }
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    try {
      status.textContent = `Uploading ${file.name} (${bytes(file.size)})…`;
      const object = await api.uploadObject(file, (sent, total) => {
        progress.value = total ? Math.floor((sent * 100) / total) : 0;
      });
      progress.value = 100;
      status.textContent = `Uploaded (${object.created ? 'new object' : 'the library already held these bytes'}); registering…`;
      const registered = await api.post('/packages', {object_id: object.id, signature});
      clear(status).append(`Registered ${registered.name} ${registered.version}, signed by ${registered.publisher} (${bytes(registered.size)}). `,
        link(`#/packages/${encodeURIComponent(registered.name)}`, `Package ${registered.name}`));
      packageInput.value = '';
      signatureInput.value = '';
      onRegistered();
    } catch (err) {
      status.textContent = '';
      fail(`Upload and register failed: ${errorMessage(err)}`);
    } finally {
      button.disabled = false;
      progress.hidden = true;
    }
  }

  return h('form', {class: 'upload', novalidate: true, on: {submit: (e) => { e.preventDefault(); submit(); }}},
    h('p', {id: 'upload-help', class: 'help'},
      'A package built and signed with ferry-pack build, and its .minisig. The site checks the bytes, the signature and that the publisher may sign this package.'),
    h('label', {for: 'upload-package'}, 'Package file (.ferry)'), packageInput,
    h('label', {for: 'upload-signature'}, 'Signature (.minisig)'), signatureInput,
    h('div', {class: 'button-row'}, button),
    progress, alertSlot, status);
}

