// The console's shell: the hash router, the sign-in dialog, and the views.
import { onUnauthorized, setToken, token } from './api.js';
import { h, problemBox } from './dom.js';
import { feedView } from './feed.js';
import { overviewView } from './overview.js';
import { queueView, queuesView } from './queues.js';
import { streamView, streamsView } from './streams.js';
import { webhooksView } from './webhooks.js';

const main = document.getElementById('view');
const signIn = document.getElementById('sign-in');
const signInForm = document.getElementById('sign-in-form');
const signInReason = document.getElementById('sign-in-reason');
const signInToken = document.getElementById('sign-in-token');

// #/streams/orders → ['streams', 'orders']
function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [name, arg] = parts;
  switch (name) {
    case 'streams': return arg ? ['streams', streamView, arg] : ['streams', streamsView];
    case 'queues': return arg ? ['queues', queueView, arg] : ['queues', queuesView];
    case 'webhooks': return ['webhooks', webhooksView];
    case 'feed': return ['feed', feedView];
    default: return ['overview', overviewView];
  }
}

let current = null;

function render() {
  if (current) current.abort();
  const controller = new AbortController();
  current = controller;
  const [nav, view, arg] = route();
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.view === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  view(main, controller.signal, arg).catch((err) => {
    if (err.name === 'AbortError' || controller.signal.aborted) return;
    main.append(problemBox(err));
  });
}

// After a navigation, focus moves to the new view so keyboard and screen reader
// users land on its heading rather than at the top of the page.
window.addEventListener('hashchange', () => {
  render();
  main.focus({ preventScroll: true });
});

function askForToken(reason) {
  if (signIn.open) return; // the first reason stays: calls that fail after it say the same
  if (current) current.abort();
  signInReason.hidden = !reason;
  signInReason.replaceChildren(...(reason ? [problemBox(reason)] : []));
  signInToken.value = '';
  signIn.showModal();
  signInToken.focus();
}

onUnauthorized((err) => askForToken(err));

signInForm.addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(signInToken.value.trim());
  signIn.close();
  render();
});
// Escape closes the dialog; without a token the views ask again on their first call.
signIn.addEventListener('cancel', () => setTimeout(render, 0));

document.getElementById('sign-out').addEventListener('click', () => {
  setToken('');
  askForToken(null);
});

if (!location.hash) history.replaceState(null, '', '#/overview');
main.append(h('p', { class: 'muted' }, token() ? 'Loading…' : 'Loading (no token yet)…'));
render();
