/*
 * The fake org's event hooks, delivered as Okta delivers them:
 * - a hook is registered with a URL, one authentication header (Okta's
 *   `authScheme` of type HEADER) and optional extra headers, and the event
 *   types it subscribes to; it gets no events until verified;
 * - verification is one GET to the URL with `X-Okta-Verification-Challenge`,
 *   which the service must echo as `{"verification": "..."}`;
 * - events of the System Log that a hook subscribes to are gathered for a
 *   short window and POSTed in batches (`com.okta.event_hook` envelopes);
 * - each request times out after 3 s; a timeout, a network error or a 5xx
 *   is retried once, a 4xx never; delivery is at least once.
 * Tests can delay deliveries, reorder them and send batches twice, as Okta
 * may.
 */
import { randomUUID } from 'node:crypto';
import { mulberry32, oktaId } from './random';
import type { FakeLogEvent, FakeSystemLog } from './systemLog';

/** Okta's timeout for a hook's answer. */
export const OKTA_EVENT_HOOK_TIMEOUT_MS = 3000;

export interface FakeEventHookRegistration {
  name: string;
  /** Where Okta sends the verification GET and the event POSTs. */
  uri: string;
  /** The one authentication header (Okta's authScheme, type HEADER). */
  authScheme?: { key: string; value: string };
  /** Extra headers sent with every request. */
  headers?: Array<{ key: string; value: string }>;
  /** Subscribed event types. */
  events: string[];
  description?: string;
}

export interface FakeEventHookDeliveryOptions {
  /** How long events gather before they are sent; default 100 ms. */
  batchWindowMs?: number;
  /** Events per POST at most (a choice of the fake); default 100. */
  maxEventsPerRequest?: number;
  /** Per-request timeout; default Okta's 3000 ms. */
  timeoutMs?: number;
  /** Added before each delivery, as when Okta is slow to deliver. */
  delayMs?: number;
  /** Shuffles each flush's batches (and the events in them) and sends them at once. */
  reorder?: boolean;
  /** Probability that a delivered batch is sent again (at-least-once delivery). */
  duplicateRate?: number;
  /** Drives reordering and duplicates; default 1. */
  seed?: number;
}

/** One HTTP request a hook made, for tests. */
export interface FakeEventHookRequest {
  hookId: string;
  kind: 'verification' | 'events';
  /** The envelope's eventId (the same on a retry or a redelivery). */
  eventId?: string;
  eventUuids: string[];
  attempt: number;
  redelivery: boolean;
  /** HTTP status, or why there was none. */
  outcome: number | 'timeout' | 'network error';
  ms: number;
}

interface StoredHook {
  id: string;
  name: string;
  description?: string;
  created: string;
  lastUpdated: string;
  status: 'ACTIVE' | 'INACTIVE';
  verificationStatus: 'UNVERIFIED' | 'VERIFIED';
  events: string[];
  uri: string;
  authScheme?: { key: string; value: string };
  headers: Array<{ key: string; value: string }>;
}

/** The envelope of an event hook POST. */
export interface FakeEventHookEnvelope {
  eventType: 'com.okta.event_hook';
  eventTypeVersion: '1.0';
  cloudEventsVersion: '0.1';
  contentType: 'application/json';
  source: string;
  eventId: string;
  eventTime: string;
  data: { events: FakeLogEvent[] };
}

export class FakeEventHookVerificationError extends Error {}

export class FakeEventHooks {
  private readonly hooks = new Map<string, StoredHook>();
  private readonly pending = new Map<string, FakeLogEvent[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log: FakeEventHookRequest[] = [];
  private readonly aborts = new Set<AbortController>();
  private options: FakeEventHookDeliveryOptions = {};
  private random: () => number = mulberry32(1);
  private readonly idRandom = mulberry32(0x0eb7);
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    systemLog: FakeSystemLog,
    private readonly baseUrl: () => string,
    private readonly clock: () => number,
  ) {
    this.unsubscribe = systemLog.onEvent(event => this.enqueue(event));
  }

  setDeliveryOptions(options: FakeEventHookDeliveryOptions): void {
    this.options = { ...options };
    this.random = mulberry32(options.seed ?? 1);
  }

  /** Registers a hook (ACTIVE, UNVERIFIED), as POST /api/v1/eventHooks does. */
  create(registration: FakeEventHookRegistration): Record<string, unknown> {
    if (
      !registration.name ||
      !registration.uri ||
      !Array.isArray(registration.events)
    ) {
      throw new FakeEventHookVerificationError(
        'name, channel.config.uri and events.items are required',
      );
    }
    const now = new Date(this.clock()).toISOString();
    const hook: StoredHook = {
      id: oktaId('who', this.idRandom),
      name: registration.name,
      ...(registration.description !== undefined && {
        description: registration.description,
      }),
      created: now,
      lastUpdated: now,
      status: 'ACTIVE',
      verificationStatus: 'UNVERIFIED',
      events: [...registration.events],
      uri: registration.uri,
      ...(registration.authScheme && {
        authScheme: { ...registration.authScheme },
      }),
      headers: [...(registration.headers ?? [])],
    };
    this.hooks.set(hook.id, hook);
    return this.toApi(hook);
  }

  list(): Record<string, unknown>[] {
    return [...this.hooks.values()].map(hook => this.toApi(hook));
  }

  get(id: string): Record<string, unknown> | undefined {
    const hook = this.hooks.get(id);
    return hook ? this.toApi(hook) : undefined;
  }

  deactivate(id: string): Record<string, unknown> | undefined {
    const hook = this.hooks.get(id);
    if (!hook) return undefined;
    hook.status = 'INACTIVE';
    hook.lastUpdated = new Date(this.clock()).toISOString();
    return this.toApi(hook);
  }

  /**
   * Okta's one-time verification: a GET with a challenge the service must
   * echo. Retried once after a timeout or an error answer.
   *
   * @throws FakeEventHookVerificationError when the service does not echo it.
   */
  async verify(id: string): Promise<Record<string, unknown>> {
    const hook = this.hooks.get(id);
    if (!hook) throw new FakeEventHookVerificationError(`No event hook ${id}`);
    const challenge = randomUUID();
    let reason = '';
    for (let attempt = 1; attempt <= 2; attempt++) {
      const started = performance.now();
      const result = await this.send(hook, 'GET', {
        'X-Okta-Verification-Challenge': challenge,
      });
      this.log.push({
        hookId: id,
        kind: 'verification',
        eventUuids: [],
        attempt,
        redelivery: false,
        outcome: result.outcome,
        ms: Math.round(performance.now() - started),
      });
      if (result.outcome === 200) {
        let echoed: unknown;
        try {
          echoed = (JSON.parse(result.body) as { verification?: unknown })
            .verification;
        } catch {
          echoed = undefined;
        }
        if (echoed === challenge) {
          hook.verificationStatus = 'VERIFIED';
          hook.lastUpdated = new Date(this.clock()).toISOString();
          return this.toApi(hook);
        }
        reason = 'the response did not echo the verification challenge';
        break;
      }
      reason =
        typeof result.outcome === 'number'
          ? `the service answered ${result.outcome}`
          : `the request failed (${result.outcome})`;
      if (typeof result.outcome === 'number' && result.outcome < 500) break;
    }
    throw new FakeEventHookVerificationError(
      `Event hook verification failed: ${reason}`,
    );
  }

  /** Every request the hooks made, in order. */
  requests(): FakeEventHookRequest[] {
    return [...this.log];
  }

  /** Sends what is pending now and resolves once every delivery (and retry) is done. */
  async idle(): Promise<void> {
    for (;;) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.flush();
      }
      if (this.inFlight.size === 0) return;
      await Promise.allSettled([...this.inFlight]);
    }
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    for (const controller of this.aborts) controller.abort();
  }

  private toApi(hook: StoredHook): Record<string, unknown> {
    const self = `${this.baseUrl()}/api/v1/eventHooks/${hook.id}`;
    return {
      id: hook.id,
      name: hook.name,
      ...(hook.description !== undefined && { description: hook.description }),
      created: hook.created,
      createdBy: '00u1fakeOrgAdmin0000',
      lastUpdated: hook.lastUpdated,
      status: hook.status,
      verificationStatus: hook.verificationStatus,
      events: { type: 'EVENT_TYPE', items: [...hook.events] },
      channel: {
        type: 'HTTP',
        version: '1.0.0',
        config: {
          uri: hook.uri,
          method: 'POST',
          headers: hook.headers.map(h => ({ ...h })),
          // Okta never returns the secret value.
          ...(hook.authScheme && {
            authScheme: { type: 'HEADER', key: hook.authScheme.key },
          }),
        },
      },
      _links: {
        self: { href: self, hints: { allow: ['GET', 'PUT', 'DELETE'] } },
        verify: {
          href: `${self}/lifecycle/verify`,
          hints: { allow: ['POST'] },
        },
        deactivate: {
          href: `${self}/lifecycle/deactivate`,
          hints: { allow: ['POST'] },
        },
      },
    };
  }

  private enqueue(event: FakeLogEvent): void {
    if (this.closed) return;
    for (const hook of this.hooks.values()) {
      if (hook.status !== 'ACTIVE' || hook.verificationStatus !== 'VERIFIED')
        continue;
      if (!hook.events.includes(event.eventType)) continue;
      let queue = this.pending.get(hook.id);
      if (!queue) this.pending.set(hook.id, (queue = []));
      queue.push(event);
    }
    if (!this.timer && this.pending.size > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.options.batchWindowMs ?? 100);
    }
  }

  private flush(): void {
    const maxEvents = this.options.maxEventsPerRequest ?? 100;
    for (const [hookId, events] of this.pending) {
      const hook = this.hooks.get(hookId);
      if (!hook) continue;
      const batches: FakeLogEvent[][] = [];
      for (let i = 0; i < events.length; i += maxEvents)
        batches.push(events.slice(i, i + maxEvents));
      if (this.options.reorder) {
        this.shuffle(batches);
        for (const batch of batches) this.shuffle(batch);
        for (const batch of batches) this.track(this.deliver(hook, batch));
      } else {
        // In order: one batch after another.
        this.track(
          batches.reduce<Promise<void>>(
            (previous, batch) => previous.then(() => this.deliver(hook, batch)),
            Promise.resolve(),
          ),
        );
      }
    }
    this.pending.clear();
  }

  private track(delivery: Promise<void>): void {
    this.inFlight.add(delivery);
    delivery
      .finally(() => this.inFlight.delete(delivery))
      .catch(() => undefined);
  }

  private shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
  }

  private async deliver(
    hook: StoredHook,
    events: FakeLogEvent[],
  ): Promise<void> {
    const envelope: FakeEventHookEnvelope = {
      eventType: 'com.okta.event_hook',
      eventTypeVersion: '1.0',
      cloudEventsVersion: '0.1',
      contentType: 'application/json',
      source: `${this.baseUrl()}/api/v1/eventHooks/${hook.id}`,
      eventId: randomUUID(),
      eventTime: new Date(this.clock()).toISOString(),
      data: { events },
    };
    const body = JSON.stringify(envelope);
    const copies =
      this.options.duplicateRate && this.random() < this.options.duplicateRate
        ? 2
        : 1;
    for (let copy = 0; copy < copies; copy++) {
      if (this.options.delayMs)
        await new Promise(resolve => setTimeout(resolve, this.options.delayMs));
      for (let attempt = 1; attempt <= 2 && !this.closed; attempt++) {
        const started = performance.now();
        const result = await this.send(
          hook,
          'POST',
          { 'Content-Type': 'application/json' },
          body,
        );
        this.log.push({
          hookId: hook.id,
          kind: 'events',
          eventId: envelope.eventId,
          eventUuids: events.map(e => e.uuid),
          attempt,
          redelivery: copy > 0,
          outcome: result.outcome,
          ms: Math.round(performance.now() - started),
        });
        const retry =
          typeof result.outcome !== 'number' || result.outcome >= 500;
        if (!retry) break;
      }
    }
  }

  private async send(
    hook: StoredHook,
    method: 'GET' | 'POST',
    extra: Record<string, string>,
    body?: string,
  ): Promise<{ outcome: number | 'timeout' | 'network error'; body: string }> {
    const headers: Record<string, string> = {
      'User-Agent': 'Okta Event Hooks (fake)',
      Accept: 'application/json',
      ...extra,
    };
    for (const { key, value } of hook.headers) headers[key] = value;
    if (hook.authScheme) headers[hook.authScheme.key] = hook.authScheme.value;
    const controller = new AbortController();
    this.aborts.add(controller);
    const timeoutMs = this.options.timeoutMs ?? OKTA_EVENT_HOOK_TIMEOUT_MS;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const response = await fetch(hook.uri, {
        method,
        headers,
        body,
        signal: controller.signal,
      });
      const text = await response.text();
      return { outcome: response.status, body: text };
    } catch {
      return { outcome: timedOut ? 'timeout' : 'network error', body: '' };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(controller);
    }
  }
}
