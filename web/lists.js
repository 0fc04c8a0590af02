// The lists by name (streams, queues): a name prefix filter and pages that
// follow next_after, with a way back.
import { enc, get } from './api.js';
import { h, problemBox, table } from './dom.js';

const PAGE = 50;

// kind: 'streams' | 'queues' (the path, the list's key and the view's link);
// noun: 'stream'; columns: header labels after the name; cells(item): the rest of a row.
export async function namedListView(main, signal, { kind, noun, title, columns, cells }) {
  const prefix = h('input', { id: `${noun}-prefix`, type: 'search', name: 'prefix', autocomplete: 'off' });
  const list = h('div', { id: `${noun}-list` });
  const pager = h('div', { class: 'actions' });
  const cursors = [];
  let after;

  async function load() {
    try {
      const page = await get(`/${kind}`, { prefix: prefix.value, after, limit: PAGE }, signal);
      list.replaceChildren(table(title, [title.replace(/s$/, ''), ...columns],
        page[kind].map((item) => [h('a', { href: `#/${kind}/${enc(item[noun])}` }, item[noun]), ...cells(item)]),
        prefix.value ? `No ${noun} starts with “${prefix.value}”.` : `No ${kind} yet.`));
      pager.replaceChildren(
        h('button', { type: 'button', disabled: cursors.length === 0, onclick: () => { after = cursors.pop(); load(); } }, '← Previous page'),
        h('button', { type: 'button', disabled: !page.next_after, onclick: () => { cursors.push(after); after = page.next_after; load(); } }, 'Next page →'));
    } catch (err) {
      if (!signal.aborted) list.replaceChildren(problemBox(err));
    }
  }

  main.append(h('h1', null, title),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); after = undefined; cursors.length = 0; load(); } },
      h('label', { for: `${noun}-prefix` }, 'Name starts with'), prefix, h('button', { type: 'submit' }, 'Filter')),
    list, pager);
  await load();
}
