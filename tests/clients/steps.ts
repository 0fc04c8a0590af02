// Numbered scenario steps for the generated-client scenarios: each step names
// what it does and asserts what the client got; the first failure ends the run
// with the step, the expectation and the value seen.
export class Scenario {
  private steps = 0;

  constructor(private readonly client: string) {}

  async step(name: string, body: () => Promise<void>): Promise<void> {
    this.steps++;
    try {
      await body();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(`${this.client}: step ${this.steps} (${name}) failed: ${why}`);
    }
  }

  done(): void {
    console.log(`${this.client}: ${this.steps} steps passed`);
  }
}

export function check(cond: boolean, what: string, got?: unknown): asserts cond {
  if (!cond) throw new Error(`${what}; got ${JSON.stringify(got)}`);
}

// JSON text with object keys sorted: PostgreSQL's jsonb does not keep key order.
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function equal<T>(got: T, want: T, what: string): void {
  const g = canonical(got), w = canonical(want);
  if (g !== w) throw new Error(`${what}: want ${w}, got ${g}`);
}

// The defined value of a response part, or a failure naming the HTTP status.
export function ok<T>(value: T | undefined, response: Response, what: string): T {
  if (value === undefined) throw new Error(`${what}: HTTP ${response.status}, no typed body`);
  return value;
}

// Parses an NDJSON body: one JSON value per line, each line ending in a newline.
export function ndjson(body: string): unknown[] {
  check(body === '' || body.endsWith('\n'), 'NDJSON ends with a newline', body.slice(-20));
  return body.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
}

// Unique resource names per run, so scenarios never see each other's data.
export function names(client: string): { stream: string; queue: string; group: string } {
  const tag = `${client}-${process.pid}-${Date.now().toString(36)}`;
  return { stream: `orders-${tag}`, queue: `jobs-${tag}`, group: `billing-${tag}` };
}

export function baseUrl(): string {
  const url = process.argv[2];
  if (!url) throw new Error('usage: node scenario.js BASE_URL');
  return url;
}

// What both scenarios send: the order's events, and the messages of its jobs.
export const order = {
  placed: { type: 'OrderPlaced', data: { order_id: 7, total: 1999 }, metadata: { correlation_id: 'c-7', source: 'checkout' } },
  paid: { type: 'OrderPaid', data: { order_id: 7 } },
  shipped: { type: 'OrderShipped', data: { order_id: 7 } },
  delivered: { type: 'OrderDelivered', data: { order_id: 7 } },
  invoice: { type: 'SendInvoice', data: { order_id: 7 }, metadata: { attempt_of: 'c-7' } },
  receipt: { type: 'SendReceipt', data: { order_id: 7 } },
  poison: { type: 'Poison', data: null },
};
