// Server-Sent Events over fetch(): EventSource cannot send an Authorization
// header, so the console reads text/event-stream from a streaming body itself.
import { ApiError, failure, headers, url } from './api.js';
import { sleep } from './dom.js';

// One frame's fields (event, id, data); comments (heartbeats) and frames without data give null.
export function parseFrame(frame) {
  const out = { event: 'message', id: null, data: [] };
  for (const line of frame.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') out.event = value;
    else if (field === 'id') out.id = value;
    else if (field === 'data') out.data.push(value);
  }
  if (out.data.length === 0) return null;
  return { event: out.event, id: out.id, data: out.data.join('\n') };
}

// Follows GET /streams/{stream}/subscribe from offset `from` until `signal`
// aborts, resuming after the last event seen when the connection drops.
// onEvent(event JSON); onState('connecting' | 'live' | 'retrying' | 'stopped', err).
export async function subscribe(stream, from, { signal, onEvent, onState }) {
  let next = from;
  while (!signal.aborted) {
    onState('connecting');
    try {
      const res = await fetch(url(`/streams/${encodeURIComponent(stream)}/subscribe`, { from: next }), {
        headers: headers({ Accept: 'text/event-stream' }),
        signal,
        cache: 'no-store',
      });
      if (!res.ok) throw await failure(res);
      onState('live');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r/g, '');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = parseFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (!frame) continue;
          const event = JSON.parse(frame.data);
          next = event.offset + 1;
          onEvent(event);
        }
      }
      onState('retrying');
    } catch (err) {
      if (signal.aborted) break;
      const fatal = err instanceof ApiError && err.status >= 400 && err.status < 500;
      onState(fatal ? 'stopped' : 'retrying', err);
      if (fatal) return;
    }
    await sleep(1000, signal);
  }
  onState('stopped');
}
