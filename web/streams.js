// Streams: the list, and one stream's metadata, events, live tail and consumer groups.
import { call, enc, get } from './api.js';
import { actionButton, confirmAction, h, problemBox, section, table } from './dom.js';
import { count, duration, json, localToUtc, time } from './format.js';
import { namedListView } from './lists.js';
import { subscribe } from './sse.js';

const PAGE = 50;
const TAIL_KEEP = 200;

export function streamsView(main, signal) {
  return namedListView(main, signal, {
    kind: 'streams', noun: 'stream', title: 'Streams',
    columns: ['Events (retained)', 'Version (offset)', 'State', 'Last event'],
    cells: (s) => [count(s.length, 'event'), s.version, s.state, time(s.last_event_at)],
  });
}

function metaList(m) {
  const r = m.retention || {};
  return h('dl', { class: 'meta' },
    h('dt', null, 'State'), h('dd', { id: 'stream-state' }, m.state),
    h('dt', null, 'Version'), h('dd', null, `offset ${m.version}`),
    h('dt', null, 'Retained'), h('dd', null, count(m.length, 'event')),
    h('dt', null, 'Offsets'), h('dd', null, m.first_offset === null ? 'none retained' : `${m.first_offset} – ${m.last_offset}`),
    h('dt', null, 'Created'), h('dd', null, time(m.created_at)),
    h('dt', null, 'Last event'), h('dd', null, time(m.last_event_at)),
    h('dt', null, 'Retention: age'), h('dd', null, r.max_age_seconds === null || r.max_age_seconds === undefined ? 'no limit' : duration(r.max_age_seconds)),
    h('dt', null, 'Retention: count'), h('dd', null, r.max_count === null || r.max_count === undefined ? 'no limit' : count(r.max_count, 'event')),
    r.source ? [h('dt', null, 'Retention set by'), h('dd', null, r.source === 'stream' ? 'this stream' : 'the service default')] : null);
}

export function eventCard(e) {
  return h('li', { class: 'event', 'data-offset': e.offset },
    h('div', { class: 'event-head' },
      h('span', { class: 'offset' }, `#${e.offset}`), h('strong', null, e.type), time(e.created_at),
      h('span', { class: 'muted' }, `global position ${e.global_position}`),
      e.stream ? h('a', { href: `#/streams/${enc(e.stream)}` }, e.stream) : null),
    json(e.data),
    e.metadata ? h('details', null, h('summary', null, 'Metadata'), json(e.metadata)) : null,
    h('p', { class: 'muted small' }, 'id ', h('code', null, e.id)));
}

function eventsSection(name, signal) {
  const type = h('input', { id: 'ev-type', name: 'type', autocomplete: 'off', placeholder: 'OrderPlaced,OrderShipped' });
  const since = h('input', { id: 'ev-since', name: 'since', type: 'datetime-local', step: 1 });
  const until = h('input', { id: 'ev-until', name: 'until', type: 'datetime-local', step: 1 });
  const list = h('ol', { id: 'events', class: 'events', 'aria-live': 'off' });
  const status = h('p', { class: 'muted', role: 'status', id: 'events-status' });
  const problem = h('div');
  let page = [];

  async function read(query) {
    problem.replaceChildren();
    try {
      const r = await get(`/streams/${enc(name)}/events`, {
        ...query, limit: PAGE, type: type.value.trim(), since: localToUtc(since.value), until: localToUtc(until.value),
      }, signal);
      const events = query.direction === 'backward' ? r.events.reverse() : r.events;
      if (events.length === 0 && page.length > 0 && query.from !== undefined) {
        status.textContent = query.direction === 'backward' ? 'No older events match.' : 'No newer events match.';
        return;
      }
      page = events;
      list.replaceChildren(...events.map(eventCard));
      status.textContent = events.length
        ? `Offsets ${events[0].offset} – ${events[events.length - 1].offset}: ${count(events.length, 'event')}`
        : 'No events match.';
    } catch (err) {
      if (!signal.aborted) problem.replaceChildren(problemBox(err));
    }
  }
  const first = () => (page.length ? page[0].offset : 0);
  const last = () => (page.length ? page[page.length - 1].offset : -1);

  const form = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); read({ from: 0 }); } },
    h('label', { for: 'ev-type' }, 'Types'), type,
    h('label', { for: 'ev-since' }, 'Since (local time)'), since,
    h('label', { for: 'ev-until' }, 'Until (local time)'), until,
    h('button', { type: 'submit' }, 'Apply'));
  const nav = h('div', { class: 'actions', role: 'group', 'aria-label': 'Event pages' },
    h('button', { type: 'button', id: 'ev-oldest', onclick: () => read({ from: 0 }) }, '⇤ Oldest'),
    h('button', { type: 'button', id: 'ev-older', onclick: () => (first() > 0 ? read({ from: first() - 1, direction: 'backward' }) : (status.textContent = 'This is the oldest page.')) }, '← Older'),
    h('button', { type: 'button', id: 'ev-newer', onclick: () => read({ from: last() + 1 }) }, 'Newer →'),
    h('button', { type: 'button', id: 'ev-newest', onclick: () => read({ direction: 'backward' }) }, 'Newest ⇥'));
  read({ from: 0 });
  return section('Events', form, nav, status, problem, list);
}

function tailSection(name, meta, signal) {
  const list = h('ol', { id: 'tail', class: 'events' });
  const state = h('p', { id: 'tail-state', role: 'status' }, 'Not following.');
  const problem = h('div');
  let controller = null;
  let seen = 0;
  const button = h('button', { type: 'button', id: 'tail-toggle', 'aria-pressed': 'false' }, 'Start live tail');
  const labels = { connecting: 'Connecting…', live: 'Live: new events appear here as they are appended.', retrying: 'Connection lost; retrying…', stopped: 'Not following.' };
  function stop() {
    if (controller) controller.abort();
    controller = null;
    button.textContent = 'Start live tail';
    button.setAttribute('aria-pressed', 'false');
    state.textContent = labels.stopped;
    state.dataset.state = 'stopped';
  }
  button.addEventListener('click', () => {
    if (controller) return stop();
    controller = new AbortController();
    const mine = controller;
    signal.addEventListener('abort', () => mine.abort(), { once: true });
    button.textContent = 'Stop live tail';
    button.setAttribute('aria-pressed', 'true');
    problem.replaceChildren();
    subscribe(name, meta.version + 1, {
      signal: mine.signal,
      onEvent: (e) => {
        seen++;
        list.prepend(eventCard(e));
        while (list.children.length > TAIL_KEEP) list.lastChild.remove();
        state.textContent = `${labels.live} ${count(seen, 'event')} so far.`;
      },
      onState: (s, err) => {
        if (mine.signal.aborted) return;
        state.dataset.state = s;
        state.textContent = labels[s];
        if (err) problem.replaceChildren(problemBox(err));
        if (s === 'live') problem.replaceChildren();
        if (s === 'stopped') stop();
      },
    });
  });
  return section('Live tail', h('p', { class: 'muted' }, `Events appended from offset ${meta.version + 1} on, newest first (the last ${TAIL_KEEP} kept).`),
    h('div', { class: 'actions' }, button), state, problem, list);
}

async function consumersSection(name, signal) {
  const r = await get(`/streams/${enc(name)}/consumers`, {}, signal);
  return section('Consumer groups', table('Consumer groups', ['Group', 'Next offset', 'Lag (events)', 'Committed'],
    r.consumers.map((c) => [c.group, c.offset, count(c.lag, 'event'), time(c.updated_at)]), 'No consumer group has committed on this stream.'));
}

export async function streamView(main, signal, name) {
  const meta = await get(`/streams/${enc(name)}`, {}, signal);
  const status = h('div', { role: 'status', id: 'stream-action-status' });
  const archived = meta.state === 'archived';
  const actions = h('div', { class: 'actions' },
    actionButton(archived ? 'Unarchive' : 'Archive', async () => {
      const verb = archived ? 'unarchive' : 'archive';
      const ok = await confirmAction(`${archived ? 'Unarchive' : 'Archive'} stream ${name}?`,
        archived ? `Stream ${name} accepts appends again.` : `Stream ${name} becomes read-only: appends are refused until it is unarchived.`,
        `${archived ? 'Unarchive' : 'Archive'} ${name}`);
      if (!ok) return;
      await call('POST', `/streams/${enc(name)}/${verb}`, { signal });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    }, { status }),
    actionButton('Delete…', async () => {
      const ok = await confirmAction(`Delete stream ${name}?`,
        `All events of ${name}, its retention and its consumer groups' offsets are deleted. This cannot be undone.`,
        `Delete ${name}`);
      if (!ok) return;
      await call('DELETE', `/streams/${enc(name)}`, { signal });
      location.hash = '#/streams';
    }, { cls: 'danger', status }));
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/streams' }, 'Streams'), ' / '),
    h('h1', null, name),
    h('div', { class: 'grid' }, section('Stream', metaList(meta), actions, status), await consumersSection(name, signal)),
    tailSection(name, meta, signal),
    eventsSection(name, signal));
}
