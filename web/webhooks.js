// Webhooks: delivery state of each, with pause and resume.
import { call, enc, listAll } from './api.js';
import { actionButton, h, problemBox, sleep, table } from './dom.js';
import { count, time } from './format.js';

const REFRESH_MS = 5000;

export async function webhooksView(main, signal) {
  const body = h('div', { id: 'webhook-list' }, h('p', { class: 'muted' }, 'Loading…'));
  const status = h('div', { role: 'status' });
  main.append(h('h1', null, 'Webhooks'), status, body);
  async function load() {
    const { items } = await listAll('/webhooks', 'webhooks', signal);
    body.replaceChildren(table('Webhooks', ['Webhook', 'Follows', 'State', 'Position', 'Last delivery', 'Failures (in a row)', 'Last error', 'Next attempt', 'Action'],
      items.map((w) => [
        h('span', { title: w.url }, w.name),
        w.stream ? ['stream ', h('a', { href: `#/streams/${enc(w.stream)}` }, w.stream)] : `streams starting with “${w.stream_prefix}”`,
        h('span', { class: `state state-${w.state}` }, w.state),
        w.stream ? `offset ${w.position}` : `global position ${w.position}`,
        time(w.last_delivery_at),
        count(w.consecutive_failures, 'failure'),
        w.last_error ? h('span', { class: 'error-text' }, w.last_error) : h('span', { class: 'muted' }, 'none'),
        time(w.next_attempt_at),
        actionButton(w.state === 'paused' ? 'Resume' : 'Pause', async () => {
          await call('POST', `/webhooks/${enc(w.name)}/${w.state === 'paused' ? 'resume' : 'pause'}`, { signal });
          await load();
        }, { status }),
      ]), 'No webhooks.'));
  }
  while (!signal.aborted) {
    try {
      await load();
    } catch (err) {
      if (signal.aborted) return;
      body.replaceChildren(problemBox(err));
      if (err.status === 401) return;
    }
    await sleep(REFRESH_MS, signal);
  }
}
