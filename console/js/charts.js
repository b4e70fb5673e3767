// SVG charts drawn from the server's numbers, nothing else. Each chart is an <svg role="img">
// whose aria-label says what it shows, next to a table of the same numbers for screen readers
// (visually hidden); colours come from console.css classes and every series is also named in a
// text legend, so nothing depends on telling colours apart.

import {h, s} from './dom.js';
import {localClock, localDateTime, percent} from './format.js';

// The series every rollout chart shows, bottom to top, with the CSS class that colours them.
const series = [
  {key: 'succeeded', label: 'Succeeded', cls: 'c-succeeded'},
  {key: 'failed', label: 'Failed', cls: 'c-failed'},
  {key: 'in_progress', label: 'In progress', cls: 'c-progress'},
  {key: 'not_reported', label: 'Not reported', cls: 'c-idle'},
];

export function legend() {
  return h('ul', {class: 'legend', 'aria-hidden': 'true'},
    series.map((x) => h('li', {}, h('span', {class: ['swatch', x.cls]}), x.label)));
}

// A wave's progress as a horizontal stacked bar inside a role="progressbar" whose value is the
// percent succeeded; the text value says the rest. `wave` has members, succeeded, failed,
// in_progress (not_reported is what is left).
export function waveBar(wave, label) {
  const members = wave.members || 0;
  const parts = counts(wave);
  const value = percent(parts.succeeded, members);
  const text = members === 0
    ? 'no members'
    : `${value}% succeeded: ${parts.succeeded} of ${members}, ${parts.failed} failed, ${parts.in_progress} in progress, ${parts.not_reported} not reported`;
  const svg = s('svg', {viewBox: '0 0 100 10', preserveAspectRatio: 'none', class: 'bar', 'aria-hidden': 'true', focusable: 'false'},
    s('rect', {x: 0, y: 0, width: 100, height: 10, class: 'c-track'}));
  let x = 0;
  for (const item of series) {
    const width = members ? (parts[item.key] * 100) / members : 0;
    if (width > 0) svg.append(s('rect', {x, y: 0, width, height: 10, class: item.cls}));
    x += width;
  }
  return h('div', {
    role: 'progressbar', class: 'wave-bar', 'aria-label': label,
    'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(value), 'aria-valuetext': text, title: text,
  }, svg);
}

// Every count a wave (or a sum of waves) has, with not_reported as members minus the reports.
function counts(w) {
  const succeeded = w.succeeded || 0;
  const failed = w.failed || 0;
  const inProgress = w.in_progress || 0;
  return {succeeded, failed, in_progress: inProgress, not_reported: Math.max(0, (w.members || 0) - succeeded - failed - inProgress), members: w.members || 0};
}

// The rollout report's history ([{at, waves: [{members, succeeded, failed, in_progress}]}],
// a sample whenever the counts changed) as a stacked step chart of clients per state, summed
// over the waves. Counts hold between samples, so the last one is drawn on to `until` (now for
// a rollout still running). `title` names the rollout in the label and caption.
export function historyChart(history, {title, until}) {
  const samples = (history || []).map((sample) => ({at: sample.at, ...counts(sum(sample.waves || []))}));
  if (samples.length === 0) return h('p', {class: 'empty'}, 'No reports yet: the chart starts with the first change of counts.');

  const W = 720, H = 260, left = 48, right = 16, top = 12, bottom = 30;
  const t0 = samples[0].at;
  // At least 10 s wide, so a rollout finished within a second still has a readable chart.
  const t1 = Math.max(until || 0, samples[samples.length - 1].at, t0 + 10);
  const maxY = niceCeiling(Math.max(1, ...samples.map((x) => x.members)));
  const X = (t) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
  const Y = (v) => top + (1 - v / maxY) * (H - top - bottom);

  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart', 'aria-label': describe(samples, title, t1)});
  for (const v of ticks(maxY)) {
    svg.append(s('line', {x1: left, x2: W - right, y1: Y(v), y2: Y(v), class: 'grid'}));
    svg.append(s('text', {x: left - 6, y: Y(v) + 4, class: 'axis', 'text-anchor': 'end'}, String(v)));
  }
  const {times, step} = timeTicks(t0, t1);
  for (const t of times) {
    svg.append(s('text', {x: X(t), y: H - 10, class: 'axis', 'text-anchor': 'middle'}, localClock(t, step < 60)));
  }
  // Layers bottom-up: each is the band between the sum of the series below it and that sum
  // plus its own count, drawn as steps (a count holds until the next sample).
  let below = samples.map(() => 0);
  for (const item of series) {
    const above = samples.map((x, i) => below[i] + x[item.key]);
    svg.append(s('path', {d: band(samples, below, above, X, Y, t1), class: item.cls}));
    below = above;
  }
  svg.append(s('line', {x1: left, x2: W - right, y1: Y(0), y2: Y(0), class: 'baseline'}));

  return h('figure', {class: 'chart-figure'}, svg, legend(), historyTable(samples, title));
}

function sum(waves) {
  const total = {members: 0, succeeded: 0, failed: 0, in_progress: 0};
  for (const w of waves) for (const k of Object.keys(total)) total[k] += w[k] || 0;
  return total;
}

// The path of one stacked band in steps: along the top left to right, back along the bottom.
function band(samples, lower, upper, X, Y, end) {
  const xs = samples.map((x, i) => [X(x.at), X(i + 1 < samples.length ? samples[i + 1].at : end)]);
  let d = '';
  samples.forEach((_, i) => {
    d += `${i === 0 ? 'M' : 'L'}${xs[i][0].toFixed(1)},${Y(upper[i]).toFixed(1)}L${xs[i][1].toFixed(1)},${Y(upper[i]).toFixed(1)}`;
  });
  for (let i = samples.length - 1; i >= 0; i--) {
    d += `L${xs[i][1].toFixed(1)},${Y(lower[i]).toFixed(1)}L${xs[i][0].toFixed(1)},${Y(lower[i]).toFixed(1)}`;
  }
  return d + 'Z';
}

// What a screen reader hears for the chart: the span and the latest counts.
function describe(samples, title, end) {
  const last = samples[samples.length - 1];
  return `Clients per state over time for ${title}, from ${localDateTime(samples[0].at)} to ${localDateTime(end)}: ` +
    `latest ${last.succeeded} succeeded, ${last.failed} failed, ${last.in_progress} in progress, ` +
    `${last.not_reported} not reported, of ${last.members}`;
}

const tableRows = 200;
function historyTable(samples, title) {
  const shown = samples.slice(-tableRows);
  const caption = samples.length > shown.length
    ? `Clients per state over time for ${title} (the latest ${shown.length} of ${samples.length} samples)`
    : `Clients per state over time for ${title}`;
  // The hiding class goes on a wrapper: a table ignores a 1 px width and would widen the page.
  return h('div', {class: 'visually-hidden'}, h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['Time', 'Members', ...series.map((x) => x.label)].map((l) => h('th', {scope: 'col'}, l)))),
    h('tbody', {}, shown.map((x) => h('tr', {},
      h('th', {scope: 'row'}, localDateTime(x.at)), h('td', {}, String(x.members)),
      series.map((item) => h('td', {}, String(x[item.key]))))))));
}

// The smallest of 1, 2, 5 × 10^k at or above v (axis top).
export function niceCeiling(v) {
  const step = niceStep(v / 4);
  return Math.ceil(v / step) * step;
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return Math.max(1, m * power);
  return Math.max(1, 10 * power);
}

export function ticks(max) {
  const step = niceStep(max / 4);
  const out = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(Math.round(v));
  return out;
}

// Up to 6 evenly spaced times on round seconds, minutes or hours.
function timeTicks(t0, t1) {
  const span = t1 - t0;
  const candidates = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  const step = candidates.find((c) => span / c <= 5) || Math.ceil(span / 5);
  const times = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) times.push(t);
  return {times: times.length ? times : [t0], step};
}
