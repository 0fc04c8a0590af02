// Queues: the list with depths, and one queue's figures, config, peeks and dead letters.
import { call, enc, get } from './api.js';
import { actionButton, confirmAction, fill, h, problemBox, section, sleep, table } from './dom.js';
import { count, duration, json, shortId, time } from './format.js';
import { namedListView } from './lists.js';

const PAGE = 50;
const REFRESH_MS = 5000;

export function queuesView(main, signal) {
  return namedListView(main, signal, {
    kind: 'queues', noun: 'queue', title: 'Queues',
    columns: ['Pending (messages)', 'In flight (messages)', 'Delayed (messages)', 'Dead letters (messages)', 'Oldest pending (age)'],
    cells: (q) => [count(q.pending, 'message'), count(q.in_flight, 'message'), count(q.delayed, 'message'),
      count(q.dead_letters, 'message'), duration(q.oldest_pending_age_seconds)],
  });
}

function figures(q) {
  return h('ul', { class: 'figures', id: 'queue-figures', 'aria-label': 'Depth' },
    h('li', { id: 'q-pending' }, h('span', { class: 'figure' }, count(q.pending, 'message')), h('span', { class: 'muted' }, 'pending')),
    h('li', { id: 'q-inflight' }, h('span', { class: 'figure' }, count(q.in_flight, 'message')), h('span', { class: 'muted' }, 'in flight')),
    h('li', { id: 'q-delayed' }, h('span', { class: 'figure' }, count(q.delayed, 'message')), h('span', { class: 'muted' }, 'delayed')),
    h('li', { id: 'q-dead' }, h('span', { class: 'figure' }, count(q.dead_letters, 'message')), h('span', { class: 'muted' }, 'dead letters')),
    h('li', { id: 'q-oldest' }, h('span', { class: 'figure' }, duration(q.oldest_pending_age_seconds)), h('span', { class: 'muted' }, 'oldest pending')));
}

// The editable config; an empty field sends null (the service's default).
function configForm(name, q, signal) {
  const c = q.config;
  const status = h('div', { role: 'status' });
  const field = (id, label, value, min, max) => [
    h('label', { for: id }, label),
    h('input', { id, name: id, type: 'number', min, max, step: 1, value: value === null ? '' : String(value) })];
  const form = h('form', { class: 'config', id: 'queue-config' },
    field('visibility_timeout', 'Visibility timeout (seconds)', c.visibility_timeout, 0, 43200),
    field('max_delivery_attempts', 'Max delivery attempts (deliveries)', c.max_delivery_attempts, 1, 1000),
    field('retention_seconds', 'Retention (seconds)', c.retention_seconds, 60, 315360000),
    field('max_depth', 'Max depth (messages; empty: no limit)', c.max_depth, 1, undefined),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save config')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    for (const key of ['visibility_timeout', 'max_delivery_attempts', 'retention_seconds', 'max_depth']) {
      const v = form.elements[key].value.trim();
      body[key] = v === '' ? null : Number(v);
    }
    try {
      await call('PUT', `/queues/${enc(name)}`, { body, signal });
      status.replaceChildren(h('p', { class: 'ok' }, 'Saved.'));
    } catch (err) {
      if (!signal.aborted) status.replaceChildren(problemBox(err));
    }
  });
  return section('Config', form);
}

function peekSection(name, state, title, signal) {
  const body = h('div', { id: `peek-${state}` });
  let after;
  async function load(more) {
    try {
      const r = await get(`/queues/${enc(name)}/messages`, { state, after, limit: PAGE }, signal);
      const columns = ['Id', 'Type', 'Enqueued', state === 'pending' ? 'Visible from' : 'Lease until', 'Deliveries (count)'];
      if (state === 'in_flight') columns.push('Consumer');
      const rows = r.messages.map((m) => {
        const row = [shortId(m.id), m.type, time(m.enqueued_at), time(state === 'pending' ? m.visible_at : m.visible_until), count(m.delivery_count, 'delivery', 'deliveries')];
        if (state === 'in_flight') row.push(m.consumer || '');
        return row;
      });
      fill(body, table(title, columns, rows, state === 'pending' ? 'No pending messages.' : 'No messages in flight.'),
        r.next_after ? h('button', { type: 'button', onclick: () => { after = r.next_after; load(true); } }, 'Next page →') : null,
        more ? h('button', { type: 'button', onclick: () => { after = undefined; load(false); } }, 'First page') : null);
    } catch (err) {
      if (!signal.aborted) body.replaceChildren(problemBox(err));
    }
  }
  load(false);
  return section(title, body);
}

function deadLettersSection(name, signal, refresh) {
  const body = h('div', { id: 'dead-letters' });
  const status = h('div', { role: 'status', id: 'dead-status' });
  let after;
  async function load() {
    try {
      const r = await get(`/queues/${enc(name)}/dead-letters`, { after, limit: PAGE }, signal);
      const boxes = [];
      const rows = r.dead_letters.map((d) => {
        const box = h('input', { type: 'checkbox', value: d.id, 'aria-label': `Select dead letter ${d.id}` });
        boxes.push(box);
        return [box, shortId(d.id), d.type, d.reason || '', count(d.delivery_count, 'delivery', 'deliveries'), time(d.failed_at),
          h('details', null, h('summary', null, 'Data'), json(d.data), d.metadata ? json(d.metadata) : null)];
      });
      const selected = () => boxes.filter((b) => b.checked).map((b) => b.value);
      const done = async (text) => {
        status.replaceChildren(h('p', { class: 'ok' }, text));
        await refresh();
        await load();
      };
      fill(body,
        table('Dead letters', ['Select', 'Id', 'Type', 'Reason', 'Deliveries (count)', 'Failed', 'Data'], rows, 'No dead letters.'),
        rows.length ? h('div', { class: 'actions' },
          actionButton('Redrive selected', async () => {
            const ids = selected();
            if (!ids.length) return status.replaceChildren(h('p', null, 'Select dead letters first.'));
            const r2 = await call('POST', `/queues/${enc(name)}/dead-letters/redrive`, { body: { ids }, signal });
            await done(`Redriven: ${count(r2.redriven, 'message')}, pending again.`);
          }, { status }),
          actionButton('Redrive all', async () => {
            if (!await confirmAction(`Redrive every dead letter of ${name}?`, `Every dead letter of queue ${name} becomes pending again with its delivery count reset.`, `Redrive all of ${name}`)) return;
            const r2 = await call('POST', `/queues/${enc(name)}/dead-letters/redrive`, { body: {}, signal });
            await done(`Redriven: ${count(r2.redriven, 'message')}, pending again.`);
          }, { status }),
          actionButton('Delete selected', async () => {
            const ids = selected();
            if (!ids.length) return status.replaceChildren(h('p', null, 'Select dead letters first.'));
            if (!await confirmAction(`Delete ${count(ids.length, 'dead letter')} of ${name}?`, 'They are gone for good.', `Delete from ${name}`)) return;
            for (const id of ids) await call('DELETE', `/queues/${enc(name)}/dead-letters/${enc(id)}`, { signal });
            await done(`Deleted: ${count(ids.length, 'dead letter')}.`);
          }, { cls: 'danger', status })) : null,
        r.next_after ? h('button', { type: 'button', onclick: () => { after = r.next_after; load(); } }, 'Next page →') : null);
    } catch (err) {
      if (!signal.aborted) body.replaceChildren(problemBox(err));
    }
  }
  load();
  return section('Dead letters', status, body);
}

export async function queueView(main, signal, name) {
  const q = await get(`/queues/${enc(name)}`, {}, signal);
  const figs = h('div', null, figures(q));
  const status = h('div', { role: 'status' });
  const refresh = async () => figs.replaceChildren(figures(await get(`/queues/${enc(name)}`, {}, signal)));
  const peeks = h('div', { class: 'grid' });
  const showPeeks = () => peeks.replaceChildren(peekSection(name, 'pending', 'Pending messages', signal),
    peekSection(name, 'in_flight', 'In-flight messages', signal));
  showPeeks();
  const purge = actionButton('Purge…', async () => {
    if (!await confirmAction(`Purge queue ${name}?`, `Every pending and in-flight message of ${name} is deleted (dead letters stay). This cannot be undone.`, `Purge ${name}`)) return;
    const r = await call('POST', `/queues/${enc(name)}/purge`, { signal });
    status.replaceChildren(h('p', { class: 'ok' }, `Purged: ${count(r.purged, 'message')}.`));
    await refresh();
    showPeeks();
  }, { cls: 'danger', status });
  main.append(h('p', { class: 'crumbs' }, h('a', { href: '#/queues' }, 'Queues'), ' / '), h('h1', null, name),
    section('Depth', figs, h('div', { class: 'actions' }, purge), status),
    configForm(name, q, signal), peeks, deadLettersSection(name, signal, async () => { await refresh(); showPeeks(); }));
  // The figures follow the queue while the view is open.
  while (!signal.aborted) {
    await sleep(REFRESH_MS, signal);
    if (signal.aborted) break;
    try {
      await refresh();
    } catch (err) {
      if (signal.aborted || err.status === 401) break;
      figs.replaceChildren(problemBox(err));
    }
  }
}
