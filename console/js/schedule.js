// What a DP's rate schedule allows at a moment, for the console to set a DP's throughput
// against. The grammar is that of include/ferry/throttle.h: rules separated by ';', each
// `DAYS HH:MM-HH:MM RATE`, `default RATE` or `start YYYY-MM-DDTHH:MMZ`; the first window rule
// holding the moment decides, else the default (unlimited). DAYS: daily, Mon, Mon-Fri, Sat,Sun.
// Anything this reading does not understand returns null, and the console shows the text as
// given rather than guess.

const dayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const units = {'B/s': 1, 'KiB/s': 1024, 'MiB/s': 1024 ** 2, 'GiB/s': 1024 ** 3};

// -> {rate: bytes/s | 'unlimited' | 'paused', why: text} or null.
export function currentRate(text, when) {
  const rules = text.split(';').map((r) => r.trim()).filter(Boolean);
  if (rules.length === 0) return {rate: 'unlimited', why: 'no schedule'};
  let fallback = {rate: 'unlimited', why: 'no rule holds now and there is no default'};
  let match = null;
  for (const rule of rules) {
    const parts = rule.split(/\s+/);
    if (parts[0] === 'start' && parts.length === 2) {
      const start = Date.parse(parts[1].replace(/Z$/, ':00Z'));
      if (Number.isNaN(start)) return null;
      if (when.getTime() < start) return {rate: 'paused', why: `distribution starts at ${parts[1]}`};
      continue;
    }
    if (parts[0] === 'default' && parts.length === 2) {
      const r = parseRate(parts[1]);
      if (r === null) return null;
      fallback = {rate: r, why: `the default rule "${rule}"`};
      continue;
    }
    if (parts.length !== 3) return null;
    const days = parseDays(parts[0]);
    const window = parseWindow(parts[1]);
    const r = parseRate(parts[2]);
    if (!days || !window || r === null) return null;
    if (!match && holds(days, window, when)) match = {rate: r, why: `the rule "${rule}"`};
  }
  return match || fallback;
}

function parseRate(text) {
  if (text === 'unlimited' || text === 'paused') return text;
  const m = /^(\d+(?:\.\d+)?)(B\/s|KiB\/s|MiB\/s|GiB\/s)$/.exec(text);
  return m ? Number(m[1]) * units[m[2]] : null;
}

// Set of day numbers (0 = Sunday).
function parseDays(text) {
  if (text === 'daily') return new Set([0, 1, 2, 3, 4, 5, 6]);
  const out = new Set();
  for (const piece of text.split(',')) {
    const range = piece.split('-');
    const a = dayNames.indexOf(range[0]);
    const b = range.length === 2 ? dayNames.indexOf(range[1]) : a;
    if (a < 0 || b < 0 || range.length > 2) return null;
    for (let d = a; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === b) break;
    }
  }
  return out;
}

function parseWindow(text) {
  const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(text);
  if (!m) return null;
  const from = Number(m[1]) * 60 + Number(m[2]);
  const to = Number(m[3]) * 60 + Number(m[4]);
  if (from >= 24 * 60 || to > 24 * 60) return null;
  return {from, to};
}

// A window crossing midnight belongs to the day it starts on (as maintenance windows do).
function holds(days, {from, to}, when) {
  const minute = when.getHours() * 60 + when.getMinutes();
  const day = when.getDay();
  if (from < to) return days.has(day) && minute >= from && minute < to;
  return (days.has(day) && minute >= from) || (days.has((day + 6) % 7) && minute < to);
}
