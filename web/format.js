// Figures with their units, and times in the reader's zone with the UTC value on hover.
import { h } from './dom.js';

const numberFormat = new Intl.NumberFormat();

export function count(n, one, many = `${one}s`) {
  if (n === null || n === undefined) return '—';
  return `${numberFormat.format(n)} ${n === 1 ? one : many}`;
}

// A duration in seconds as people read it (3 min 12 s), exact on hover.
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return h('span', { class: 'muted' }, 'none');
  return h('span', { title: `${seconds} seconds` }, durationText(seconds));
}

export function durationText(seconds) {
  let s = Math.round(Number(seconds));
  if (s < 60) return Number(seconds) < 10 && !Number.isInteger(Number(seconds)) ? `${Number(seconds).toFixed(1)} s` : `${s} s`;
  const parts = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]]) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)} ${unit}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

// The service's RFC 3339 UTC time shown in the local zone; hovering shows it in UTC.
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', null, iso);
  return h('time', { datetime: iso, title: `${iso} (UTC)` }, d.toLocaleString());
}

export function json(value) {
  return h('pre', { class: 'json' }, value === undefined ? '' : JSON.stringify(value, null, 2));
}

export function shortId(id) {
  return h('code', { title: id }, String(id).slice(0, 8));
}

// A <input type=datetime-local> value (local time) as RFC 3339 UTC, or '' when empty.
export function localToUtc(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
