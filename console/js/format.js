// How times, durations and sizes read in the console. The server speaks Unix seconds (UTC) and
// bytes; people read local date-times, "3 min ago" and MiB. Pure functions, so node can try them.

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const clockTime = new Intl.DateTimeFormat(undefined, {hour: '2-digit', minute: '2-digit'});
const clockSeconds = new Intl.DateTimeFormat(undefined, {hour: '2-digit', minute: '2-digit', second: '2-digit'});

// "2026-03-01, 14:03:22" in the browser's time zone.
export function localDateTime(unix) {
  return dateTime.format(new Date(unix * 1000));
}

// "14:03" (or "14:03:20" with seconds), for chart axes.
export function localClock(unix, seconds = false) {
  return (seconds ? clockSeconds : clockTime).format(new Date(unix * 1000));
}

// "3 min ago", "in 2 h", "just now". `now` is in Unix seconds (a parameter so tests can fix it).
export function relative(unix, now = Date.now() / 1000) {
  const delta = Math.round(now - unix);
  const span = duration(Math.abs(delta), {coarse: true});
  if (Math.abs(delta) < 5) return 'just now';
  return delta > 0 ? `${span} ago` : `in ${span}`;
}

// "42 s", "3 min", "1 h 5 min", "2 days 3 h". coarse: only the largest unit.
export function duration(seconds, {coarse = false} = {}) {
  const s = Math.max(0, Math.round(seconds));
  const units = [['day', 86400], ['h', 3600], ['min', 60], ['s', 1]];
  const parts = [];
  let rest = s;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    if (n === 0 && !(size === 1 && parts.length === 0)) continue;
    rest -= n * size;
    parts.push(name === 'day' ? `${n} day${n === 1 ? '' : 's'}` : `${n} ${name}`);
    if (coarse || parts.length === 2) break;
  }
  return parts.join(' ');
}

// 1536 -> "1.5 KiB". Binary units, one decimal below 100 of a unit; exact bytes below 1 KiB.
export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = n;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

// Bytes per second as "2.0 MiB/s".
export function rate(bytesPerSecond) {
  return `${bytes(bytesPerSecond)}/s`;
}

// "40%" of a part in a whole, rounded down so that 99.6% never reads as done; 0 of 0 is 0.
export function percent(part, whole) {
  if (!whole) return 0;
  return Math.floor((part * 100) / whole);
}

// "1 client", "3 clients".
export function plural(n, word, many = word + 's') {
  return `${n} ${n === 1 ? word : many}`;
}

// A UTF-8 byte offset (what a C++ parser counts) to a JavaScript string index, so the caret
// under a query lands on the right character even after a non-ASCII one.
export function byteOffsetToIndex(text, byteOffset) {
  let bytesSoFar = 0;
  let index = 0;
  for (const ch of text) {
    if (bytesSoFar >= byteOffset) break;
    const code = ch.codePointAt(0);
    bytesSoFar += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    index += ch.length;
  }
  return index;
}
