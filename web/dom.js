// DOM building without HTML strings: the page's Content-Security-Policy refuses
// string sinks such as innerHTML (require-trusted-types-for 'script').

// h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', child, [more])
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'checked' || key === 'value' || key === 'disabled') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

// Replaces el's children, leaving out null, undefined and false.
export function fill(el, ...children) {
  el.replaceChildren();
  add(el, children);
  return el;
}

// A table with a caption and column headers; `columns` are header labels (units
// in parentheses), `rows` arrays of cells (nodes or text). Wide tables scroll
// inside their own box, reachable by keyboard.
export function table(caption, columns, rows, empty = 'None.') {
  if (rows.length === 0) return h('p', { class: 'muted empty' }, empty);
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', null,
      h('caption', null, caption),
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows.map((r) => h('tr', null, r.map((cell) => h('td', null, cell)))))));
}

// The API's problem shown as a person reads it: its title, its detail, and the
// status and code for whoever reports it.
export function problemBox(err) {
  const title = err && err.title ? err.title : 'Error';
  const detail = err && err.detail !== undefined ? err.detail : String(err);
  const meta = err && err.status ? `HTTP ${err.status}${err.code ? ` · ${err.code}` : ''}` : '';
  return h('div', { class: 'problem', role: 'alert' },
    h('strong', null, title), detail ? h('p', null, detail) : null, meta ? h('p', { class: 'muted' }, meta) : null);
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', null, title), ...children);
}

// Asks before a destructive action; resolves true when confirmed.
export function confirmAction(title, message, confirmLabel) {
  const dialog = document.getElementById('confirm');
  const form = document.getElementById('confirm-form');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-message').textContent = message;
  document.getElementById('confirm-ok').textContent = confirmLabel;
  return new Promise((resolve) => {
    const done = (ok) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('cancel', onCancel);
      dialog.close();
      resolve(ok);
    };
    const onSubmit = (e) => {
      e.preventDefault();
      done(e.submitter && e.submitter.value === 'ok');
    };
    const onCancel = (e) => {
      e.preventDefault();
      done(false);
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

// Resolves after `ms`, or at once when `signal` aborts.
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

// A button that runs `action` once per click, disabled while it runs, and shows
// a failure in `status` (an element with role=status or alert).
export function actionButton(label, action, { cls, status } = {}) {
  const button = h('button', { type: 'button', class: cls });
  button.textContent = label;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      if (err.name !== 'AbortError' && status) status.replaceChildren(problemBox(err));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
