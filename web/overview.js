// Overview: what is there and what needs attention, refreshed every few seconds.
import { enc, get, listAll } from './api.js';
import { h, problemBox, section, sleep, table } from './dom.js';
import { count, duration, time } from './format.js';

const REFRESH_MS = 5000;
const TOP = 5;
// Consumer lag is read per stream: at most this many streams per refresh.
const LAG_STREAMS = 50;

async function gather(signal) {
  const [streams, queues, webhooks] = await Promise.all([
    listAll('/streams', 'streams', signal),
    listAll('/queues', 'queues', signal),
    listAll('/webhooks', 'webhooks', signal),
  ]);
  const groups = (await Promise.all(streams.items.slice(0, LAG_STREAMS).map((s) =>
    get(`/streams/${enc(s.stream)}/consumers`, {}, signal).then((r) => r.consumers)))).flat();
  return { streams, queues, webhooks, groups };
}

function link(kind, name) {
  return h('a', { href: `#/${kind}/${enc(name)}` }, name);
}

function render(d) {
  const q = d.queues.items;
  const deepest = [...q].sort((a, b) => b.pending - a.pending).filter((x) => x.pending > 0).slice(0, TOP);
  const oldest = [...q].sort((a, b) => b.oldest_pending_age_seconds - a.oldest_pending_age_seconds)[0];
  const dead = q.filter((x) => x.dead_letters > 0).sort((a, b) => b.dead_letters - a.dead_letters);
  const deadTotal = dead.reduce((n, x) => n + x.dead_letters, 0);
  const failing = d.webhooks.items.filter((w) => w.state === 'failing');
  const lagging = [...d.groups].sort((a, b) => b.lag - a.lag).filter((g) => g.lag > 0).slice(0, TOP);
  const plus = (list) => (list.more ? '+' : '');

  return [
    h('ul', { class: 'figures', 'aria-label': 'Totals' },
      h('li', { id: 'fig-streams' }, h('span', { class: 'figure' }, count(d.streams.items.length, 'stream') + plus(d.streams))),
      h('li', { id: 'fig-queues' }, h('span', { class: 'figure' }, count(q.length, 'queue') + plus(d.queues))),
      h('li', { id: 'fig-dead' }, h('span', { class: 'figure' }, count(deadTotal, 'dead letter'))),
      h('li', { id: 'fig-failing' }, h('span', { class: 'figure' }, count(failing.length, 'failing webhook'))),
      h('li', { id: 'fig-oldest' }, h('span', { class: 'figure' },
        oldest && oldest.oldest_pending_age_seconds > 0 ? duration(oldest.oldest_pending_age_seconds) : 'no message',
        ' '), h('span', { class: 'muted' }, oldest && oldest.oldest_pending_age_seconds > 0
        ? ['oldest pending, in ', link('queues', oldest.queue)] : 'pending'))),
    h('div', { class: 'grid' },
      section('Deepest queues', table('Queues with the most pending messages',
        ['Queue', 'Pending (messages)', 'In flight (messages)', 'Oldest pending (age)'],
        deepest.map((x) => [link('queues', x.queue), count(x.pending, 'message'), count(x.in_flight, 'message'),
          duration(x.oldest_pending_age_seconds)]), 'No queue has pending messages.')),
      section('Dead letters', table('Queues with dead letters', ['Queue', 'Dead letters (messages)'],
        dead.slice(0, TOP).map((x) => [link('queues', x.queue), count(x.dead_letters, 'message')]),
        'No dead letters.')),
      section('Failing webhooks', table('Webhooks whose last delivery failed',
        ['Webhook', 'Failures (in a row)', 'Last error', 'Next attempt'],
        failing.map((w) => [h('a', { href: '#/webhooks' }, w.name), count(w.consecutive_failures, 'failure'),
          w.last_error || '', time(w.next_attempt_at)]), 'No webhook is failing.')),
      section('Consumer groups with the largest lag', table('Consumer groups by lag',
        ['Stream', 'Group', 'Lag (events)', 'Committed'],
        lagging.map((g) => [link('streams', g.stream), g.group, count(g.lag, 'event'), time(g.updated_at)]),
        d.streams.items.length > LAG_STREAMS
          ? `No lag in the first ${LAG_STREAMS} streams.` : 'No consumer group is behind.'))),
  ];
}

export async function overviewView(main, signal) {
  const status = h('p', { class: 'muted', role: 'status' });
  const body = h('div', { id: 'overview-body' }, h('p', { class: 'muted' }, 'Loading…'));
  main.append(h('h1', null, 'Overview'), status, body);
  while (!signal.aborted) {
    try {
      const data = await gather(signal);
      body.replaceChildren(...render(data));
      status.replaceChildren('Refreshed ', time(new Date().toISOString()), ` · every ${REFRESH_MS / 1000} s`);
    } catch (err) {
      if (signal.aborted) return;
      body.replaceChildren(problemBox(err));
      if (err.status === 401) return;
    }
    await sleep(REFRESH_MS, signal);
  }
}
