// The global read as a live feed: a long poll on GET /events that follows
// next_position, newest first.
import { get } from './api.js';
import { h, problemBox, sleep } from './dom.js';
import { count } from './format.js';
import { eventCard } from './streams.js';

const WAIT_S = 25;
const KEEP = 200;

export async function feedView(main, signal) {
  const prefix = h('input', { id: 'feed-prefix', name: 'stream_prefix', type: 'search', autocomplete: 'off' });
  const type = h('input', { id: 'feed-type', name: 'type', autocomplete: 'off', placeholder: 'OrderPlaced,OrderShipped' });
  const from = h('input', { id: 'feed-from', name: 'from_position', type: 'number', min: 0, step: 1, value: '0' });
  const state = h('p', { role: 'status', id: 'feed-state' });
  const problem = h('div');
  const list = h('ol', { id: 'feed', class: 'events' });
  let run = null;

  async function follow(position, mine) {
    let seen = 0;
    while (!mine.aborted) {
      try {
        const r = await get('/events', { from_position: position, limit: 500, wait: WAIT_S, type: type.value.trim(), stream_prefix: prefix.value }, mine);
        problem.replaceChildren();
        for (const e of r.events) list.prepend(eventCard(e));
        while (list.children.length > KEEP) list.lastChild.remove();
        seen += r.events.length;
        position = r.next_position;
        state.textContent = `Following from global position ${position}: ${count(seen, 'event')} so far (the newest ${KEEP} shown).`;
      } catch (err) {
        if (mine.aborted) return;
        problem.replaceChildren(problemBox(err));
        if (err.status >= 400 && err.status < 500) return;
        await sleep(2000, mine);
      }
    }
  }
  function start() {
    if (run) run.abort();
    run = new AbortController();
    signal.addEventListener('abort', () => run.abort(), { once: true });
    list.replaceChildren();
    follow(Number(from.value) || 0, run.signal);
  }
  main.append(h('h1', null, 'Global feed'),
    h('p', { class: 'muted' }, 'Every stream\'s events in global order, from the position given on, then live as they are appended.'),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); start(); } },
      h('label', { for: 'feed-prefix' }, 'Streams starting with'), prefix,
      h('label', { for: 'feed-type' }, 'Types'), type,
      h('label', { for: 'feed-from' }, 'After global position'), from,
      h('button', { type: 'submit' }, 'Follow')),
    state, problem, list);
  start();
}
