// The whole scenario through the fetch client and SDK @hey-api/openapi-ts
// generated from openapi.yaml (gen/hey-api/, unchanged).
// Usage: node scenario_hey_api.js BASE_URL
import { client } from './gen/hey-api/client.gen';
import * as sq from './gen/hey-api';
import { Scenario, baseUrl, check, equal, names, ndjson, ok, order } from './steps';

async function main(): Promise<void> {
  client.setConfig({ baseUrl: baseUrl() });
  const { stream, queue, group } = names('hey-api');
  const path = { stream };
  const s = new Scenario('hey-api');

  await s.step('health', async () => {
    const { data, response } = await sq.getHealth();
    equal(ok(data, response, 'health').status, 'ok', 'health status');
  });

  await s.step('append two events with metadata', async () => {
    const { data, response } = await sq.appendEvents({
      path,
      body: {
        expected_version: 'no_stream',
        events: [order.placed, order.paid],
      },
    });
    equal(response.status, 201, 'append status');
    const result = ok(data, response, 'append');
    equal([result.first_offset, result.last_offset, result.version], [0, 1, 1], 'offsets and version');
  });

  let current = -2;
  await s.step('stale expected_version: typed 409 version_conflict', async () => {
    const { data, error, response } = await sq.appendEvents({
      path,
      body: { expected_version: 0, events: [order.shipped] },
    });
    equal(response.status, 409, 'conflict status');
    check(data === undefined, 'no data', data);
    // The code alone narrows the error to the conflict problem: current_version is a number.
    check(error?.code === 'version_conflict', 'a version_conflict problem', error);
    equal(error.expected_version, 0, 'expected_version echoed');
    current = error.current_version;
    equal(current, 1, 'current_version');
  });

  await s.step('If-Match precondition: typed 412 with current_version', async () => {
    const { error, response } = await sq.appendEvents({
      path,
      headers: { 'If-Match': '"0"' },
      body: { events: [order.shipped] },
    });
    equal(response.status, 412, 'precondition status');
    check(error?.code === 'version_conflict', 'a version_conflict problem', error);
    equal([error.expected_version, error.current_version], [0, 1], 'conflict versions');
  });

  await s.step('retry at the current version from the error', async () => {
    const { data, response } = await sq.appendEvents({
      path,
      body: { expected_version: current, events: [order.shipped] },
    });
    equal(ok(data, response, 'append').first_offset, 2, 'retried append offset');
  });

  let next = -1;
  await s.step('read a typed JSON page', async () => {
    const { data, response } = await sq.readStreamEvents({ path, query: { from: 0, limit: 2 } });
    const page = ok(data, response, 'read');
    const first: sq.Event | undefined = page.events[0];
    check(first !== undefined, 'a first event', page);
    equal(page.events.map((e) => e.offset), [0, 1], 'page offsets');
    equal(first.metadata?.correlation_id, 'c-7', 'metadata kept');
    equal(page.events[1]?.metadata, null, 'absent metadata is null');
    equal(page.end_of_stream, false, 'end_of_stream');
    next = page.next_offset;
  });

  await s.step('read the next page to the end', async () => {
    const { data, response } = await sq.readStreamEvents({ path, query: { from: next } });
    const page = ok(data, response, 'read');
    equal(page.events.map((e) => e.type), ['OrderShipped'], 'last page');
    equal(page.end_of_stream, true, 'end_of_stream');
  });

  await s.step('read backward', async () => {
    const { data, response } = await sq.readStreamEvents({ path, query: { from: 2, direction: 'backward' } });
    equal(ok(data, response, 'read').events.map((e) => e.offset), [2, 1, 0], 'backward offsets');
  });

  await s.step('read one event', async () => {
    const { data, response } = await sq.getStreamEvent({ path: { stream, offset: 1 } });
    equal(ok(data, response, 'event').type, 'OrderPaid', 'event type');
  });

  await s.step('export as NDJSON', async () => {
    const { data, response } = await sq.exportStreamEvents({ path, parseAs: 'text' });
    equal(response.headers.get('content-type')?.split(';')[0], 'application/x-ndjson', 'content type');
    const events = ndjson(ok(data, response, 'export')) as sq.Event[];
    equal(events.map((e) => e.offset), [0, 1, 2], 'exported offsets');
    equal(events[0]?.metadata, order.placed.metadata, 'exported metadata');
  });

  await s.step('enqueue two messages', async () => {
    const { data, response } = await sq.enqueueMessages({
      path: { queue },
      body: {
        messages: [order.invoice, order.receipt],
      },
    });
    equal(response.status, 201, 'enqueue status');
    equal(ok(data, response, 'enqueue').messages.map((m) => m.duplicate), [false, false], 'duplicates');
  });

  const leased: sq.DeliveredMessage[] = [];
  await s.step('dequeue both', async () => {
    const { data, response } = await sq.dequeueMessages({ path: { queue }, body: { max_messages: 2 } });
    leased.push(...ok(data, response, 'dequeue').messages);
    equal(leased.map((m) => m.type), ['SendInvoice', 'SendReceipt'], 'delivered in order');
    equal(leased[0]?.metadata, order.invoice.metadata, 'message metadata');
  });

  const [invoice, receipt] = leased;
  await s.step('ack the first', async () => {
    check(invoice !== undefined, 'a first message', leased);
    const { response } = await sq.ackMessage({ path: { queue, id: invoice.id }, body: { receipt: invoice.receipt } });
    equal(response.status, 204, 'ack status');
  });

  await s.step('nack the second (requeue), get it again', async () => {
    check(receipt !== undefined, 'a second message', leased);
    const nack = await sq.nackMessage({ path: { queue, id: receipt.id }, body: { receipt: receipt.receipt } });
    equal(nack.response.status, 204, 'nack status');
    const { data, response } = await sq.dequeueMessages({ path: { queue }, body: {} });
    const again = ok(data, response, 'dequeue').messages[0];
    equal([again?.id, again?.delivery_count], [receipt.id, 2], 'redelivered');
    receipt.receipt = again?.receipt ?? '';
  });

  await s.step('nack without requeue: dead letter', async () => {
    check(receipt !== undefined, 'a second message', leased);
    const { response } = await sq.nackMessage({
      path: { queue, id: receipt.id },
      body: { receipt: receipt.receipt, requeue: false, reason: 'printer on fire' },
    });
    equal(response.status, 204, 'nack status');
    const list = await sq.listDeadLetters({ path: { queue } });
    const letters = ok(list.data, list.response, 'dead letters').dead_letters;
    equal(letters.map((d) => [d.id, d.reason, d.delivery_count]), [[receipt.id, 'printer on fire', 2]], 'dead letters');
  });

  await s.step('redrive and settle', async () => {
    const { data, response } = await sq.redriveDeadLetters({ path: { queue }, body: {} });
    equal(ok(data, response, 'redrive').redriven, 1, 'redriven');
    const got = await sq.dequeueMessages({ path: { queue } });
    const msg = ok(got.data, got.response, 'dequeue').messages[0];
    check(msg !== undefined && msg.type === 'SendReceipt', 'the redriven message', msg);
    const ack = await sq.ackMessages({ path: { queue }, body: { acks: [{ id: msg.id, receipt: msg.receipt }] } });
    equal(ok(ack.data, ack.response, 'batch ack').acked, [msg.id], 'acked');
  });

  await s.step('delete a dead letter', async () => {
    const put = await sq.enqueueMessages({ path: { queue }, body: { messages: [order.poison] } });
    const id = ok(put.data, put.response, 'enqueue').messages[0]?.id ?? '';
    const got = await sq.dequeueMessages({ path: { queue } });
    const msg = ok(got.data, got.response, 'dequeue').messages[0];
    check(msg?.id === id, 'the poison message', msg);
    await sq.nackMessage({ path: { queue, id }, body: { receipt: msg.receipt, requeue: false } });
    const del = await sq.deleteDeadLetter({ path: { queue, id } });
    equal(del.response.status, 204, 'delete status');
    const list = await sq.listDeadLetters({ path: { queue } });
    equal(ok(list.data, list.response, 'dead letters').dead_letters, [], 'no dead letters left');
  });

  await s.step('consumer group: commit, read, lag', async () => {
    const commit = await sq.commitConsumerOffset({ path: { stream, group }, body: { offset: 1 } });
    equal([ok(commit.data, commit.response, 'commit').offset, commit.data?.lag], [1, 2], 'offset and lag');
    const read = await sq.readFromConsumerGroup({ path: { stream, group } });
    equal(ok(read.data, read.response, 'group read').events.map((e) => e.offset), [1, 2], 'group read from its offset');
    await sq.commitConsumerOffset({ path: { stream, group }, body: { offset: 3 } });
    const got = await sq.getConsumer({ path: { stream, group } });
    equal([ok(got.data, got.response, 'group').offset, got.data?.lag], [3, 0], 'caught up');
  });

  await s.step('consumer group: typed 409 offset_regression, then a forced replay', async () => {
    const { error, response } = await sq.commitConsumerOffset({ path: { stream, group }, body: { offset: 1 } });
    equal(response.status, 409, 'regression status');
    check(error?.code === 'offset_regression', 'an offset_regression problem', error);
    const committed: number = error.current_offset;
    equal(committed, 3, 'current_offset');
    const replay = await sq.commitConsumerOffset({ path: { stream, group }, body: { offset: committed - 2, force: true } });
    equal([ok(replay.data, replay.response, 'forced commit').offset, replay.data?.lag], [1, 2], 'moved back');
  });

  await s.step('long poll held, then woken by an append', async () => {
    let answered = false;
    // Waits up to 60 s; answered with the event well before then, it was woken.
    const poll = sq.readStreamEvents({ path, query: { from: 3, wait: 60 }, signal: AbortSignal.timeout(30000) });
    void poll.then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    check(!answered, 'the read is held while the stream has nothing past offset 2', answered);
    const append = await sq.appendEvents({ path, body: { events: [order.delivered] } });
    equal(append.response.status, 201, 'append status');
    const { data, response } = await poll;
    equal(ok(data, response, 'long poll').events.map((e) => [e.offset, e.type]), [[3, 'OrderDelivered']], 'woken read');
  });

  s.done();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
