// The page's side of the training worker: owns the Worker, numbers requests
// and matches each reply (or error) to its request by id, and notices a crash.
// Every message the worker sends that is not an error answering a request is
// routed to `onEvent(type, payload)`; replies are routed too, then resolve
// their request. Panels never talk to the worker: main.js does, through this.
//
// A crash (the worker's script fails, a message cannot be read, a fatal
// error such as a wasm trap, or silence: no message, not even a heartbeat,
// for SILENCE_LIMIT_MS — `self.close()` or an endless loop) rejects every
// pending request, starts a new worker and calls `onCrash(reason)`.
// A worker that crashes again before it ever said `ready` is not restarted
// (its script cannot start): onCrash then gets {restarted: false}.

import { message, versionError, SILENCE_LIMIT_MS } from './protocol.js';

const WATCH_MS = 500;

export class WorkerClient {
  // `url`: the worker script; `build`: null or a wasm build name passed on as ?build=
  // (www/wasm-build.js); `createWorker(url)` makes the Worker (a fake in unit tests).
  // `now()` and `setInterval` are the clock (a fake in unit tests).
  constructor(
    url,
    { build = null, onEvent = () => {}, onCrash = () => {}, createWorker = (u) => new Worker(u, { type: 'module' }), now = () => performance.now(), every = setInterval } = {},
  ) {
    this.url = new URL(url);
    if (build) this.url.searchParams.set('build', build);
    this.onEvent = onEvent;
    this.onCrash = onCrash;
    this.createWorker = createWorker;
    this.worker = null;
    this.nextId = 1;
    this.pending = new Map(); // id → {resolve, reject, type}
    this.ready = false; // the current worker said `ready`
    this.crashedBeforeReady = false;
    this.now = now;
    this.lastHeard = now();
    this.lastWatch = now();
    const timer = every(() => this.watch(), WATCH_MS);
    if (timer && timer.unref) timer.unref(); // in node (unit tests), the watch keeps nothing alive
  }

  // Silence from a started worker means it died. A watch that itself comes
  // late (the page's own thread was busy, or a hidden tab's timers were
  // slowed) proves nothing: the worker's messages may be waiting behind it.
  watch() {
    const now = this.now();
    const late = now - this.lastWatch > 2 * WATCH_MS;
    this.lastWatch = now;
    if (late) {
      this.lastHeard = Math.max(this.lastHeard, now - WATCH_MS);
      return;
    }
    if (this.worker && this.ready && now - this.lastHeard > SILENCE_LIMIT_MS) {
      this.crash(`it stopped answering: nothing for ${Math.round((now - this.lastHeard) / 1000)} s`);
    }
  }

  start() {
    this.ready = false;
    this.lastHeard = this.now();
    const worker = this.createWorker(this.url.href);
    this.worker = worker;
    worker.onmessage = (event) => this.receive(event.data);
    worker.onerror = (event) => {
      if (event && event.preventDefault) event.preventDefault();
      this.crash((event && event.message) || 'the worker failed to start');
    };
    worker.onmessageerror = () => this.crash('a message from the worker could not be read');
    return this;
  }

  // Sends a request; the promise settles with the reply's payload, or rejects
  // with an Error carrying the worker's `code` (e.g. ConfigError).
  request(type, payload = {}, transfer = []) {
    if (!this.worker) return Promise.reject(new Error('the worker is not started'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, type });
      this.worker.postMessage(message(type, payload, id), transfer);
    });
  }

  // Sends a message that expects no reply.
  send(type, payload = {}) {
    if (!this.worker) throw new Error('the worker is not started');
    this.worker.postMessage(message(type, payload));
  }

  // How many requests await their reply.
  get pendingCount() {
    return this.pending.size;
  }

  receive(msg) {
    this.lastHeard = this.now();
    const problem = versionError(msg);
    if (problem) {
      // A worker of another version: its ids cannot be trusted, so nothing is resolved.
      this.onEvent('error', { code: 'ProtocolError', message: problem });
      return;
    }
    const { type, payload = {}, id } = msg;
    if (type === 'heartbeat') return;
    if (type === 'error' && payload.fatal) return this.crash(`${payload.code}: ${payload.message}`);
    if (type === 'ready') {
      this.ready = true;
      this.crashedBeforeReady = false;
    }
    if (type === 'error' && payload.replyTo !== undefined && this.pending.has(payload.replyTo)) {
      const { reject } = this.pending.get(payload.replyTo);
      this.pending.delete(payload.replyTo);
      reject(Object.assign(new Error(payload.message), { code: payload.code }));
      return;
    }
    this.onEvent(type, payload);
    if (id !== undefined && this.pending.has(id)) {
      const { resolve } = this.pending.get(id);
      this.pending.delete(id);
      resolve(payload);
    }
  }

  crash(reason) {
    const everReady = this.ready;
    if (this.worker) this.worker.terminate();
    this.worker = null;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of waiting) reject(Object.assign(new Error(reason), { code: 'WorkerCrash' }));
    // Twice in a row without a `ready`: the script itself cannot start, so a restart would loop.
    const restart = everReady || !this.crashedBeforeReady;
    this.crashedBeforeReady = !everReady;
    if (restart) this.start();
    this.onCrash(reason, { restarted: restart });
  }

  terminate() {
    if (this.worker) this.worker.terminate();
    this.worker = null;
  }
}
