// The worker client's bookkeeping (www/worker-client.js) with a fake Worker:
// requests and replies matched by id, errors rejecting their request, events
// routed, crashes rejecting what is pending and restarting. A unit test of the
// matching only: the page tests run the real worker.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerClient } from '../../www/worker-client.js';
import { message, PROTOCOL_VERSION, SILENCE_LIMIT_MS } from '../../www/protocol.js';

// A plain object standing in for a Worker: records what is posted; `reply` plays the worker.
function fakeWorkers() {
  const made = [];
  const createWorker = (url) => {
    const w = {
      url,
      posted: [],
      terminated: false,
      postMessage(msg, transfer) {
        this.posted.push({ msg, transfer });
      },
      terminate() {
        this.terminated = true;
      },
      reply(type, payload, id) {
        this.onmessage({ data: message(type, payload, id) });
      },
    };
    made.push(w);
    return w;
  };
  return { made, createWorker };
}

function client(options = {}) {
  const { made, createWorker } = fakeWorkers();
  const events = [];
  const crashes = [];
  const c = new WorkerClient('http://127.0.0.1/worker.js', {
    createWorker,
    onEvent: (type, payload) => events.push({ type, payload }),
    onCrash: (reason, info) => crashes.push({ reason, ...info }),
    ...options,
  }).start();
  return { c, made, events, crashes, worker: () => made.at(-1) };
}

test('the worker starts from its URL, with ?build= when one is asked for', () => {
  assert.equal(client().worker().url, 'http://127.0.0.1/worker.js');
  assert.equal(client({ build: 'relaxed' }).worker().url, 'http://127.0.0.1/worker.js?build=relaxed');
});

test('requests get increasing ids; replies resolve their own request, in any order', async () => {
  const { c, worker, events } = client();
  const a = c.request('describe', { run: 1 });
  const b = c.request('configure', { runs: [] });
  const [pa, pb] = worker().posted.map((p) => p.msg);
  assert.deepEqual(pa, { v: PROTOCOL_VERSION, type: 'describe', id: 1, payload: { run: 1 } });
  assert.equal(pb.id, 2);
  assert.equal(c.pendingCount, 2);
  worker().reply('configured', { runs: ['b'] }, 2);
  worker().reply('described', { name: 'a' }, 1);
  assert.deepEqual(await a, { name: 'a' });
  assert.deepEqual(await b, { runs: ['b'] });
  assert.equal(c.pendingCount, 0);
  // Replies are routed as events too, before their request resolves.
  assert.deepEqual(events.map((e) => e.type), ['configured', 'described']);
});

test('transferred buffers go along with the request', () => {
  const { c, worker } = client();
  const bytes = new ArrayBuffer(8);
  c.request('addDataset', { bytes }, [bytes]);
  assert.deepEqual(worker().posted[0].transfer, [bytes]);
});

test('send posts a message without an id', () => {
  const { c, worker } = client();
  c.send('pause');
  assert.deepEqual(worker().posted[0].msg, { v: PROTOCOL_VERSION, type: 'pause', id: undefined, payload: {} });
  assert.equal(c.pendingCount, 0);
});

test('an error answering a request rejects it with the worker’s code, and is not routed', async () => {
  const { c, worker, events } = client();
  const other = c.request('describe');
  const failing = c.request('configure');
  worker().reply('error', { code: 'ConfigError', message: 'lr: must be greater than 0', replyTo: 2 });
  await assert.rejects(failing, (err) => err.code === 'ConfigError' && err.message === 'lr: must be greater than 0');
  assert.deepEqual(events, []);
  assert.equal(c.pendingCount, 1, 'the other request still waits');
  worker().reply('described', {}, 1);
  await other;
});

test('an error answering nothing pending (a run that stopped) is routed as an event', () => {
  const { c, worker, events } = client();
  worker().reply('error', { code: 'DivergedError', message: 'training diverged at step 3' });
  worker().reply('error', { code: 'StateError', message: 'late', replyTo: 99 });
  assert.deepEqual(events.map((e) => e.payload.code), ['DivergedError', 'StateError']);
  assert.equal(c.pendingCount, 0);
});

test('news without an id (progress, done) is routed and resolves nothing', () => {
  const { c, worker, events } = client();
  c.request('step');
  worker().reply('progress', { runs: [] });
  worker().reply('done', { runs: [] });
  assert.deepEqual(events.map((e) => e.type), ['progress', 'done']);
  assert.equal(c.pendingCount, 1);
});

test('a message of another protocol version resolves nothing and is reported', () => {
  const { c, worker, events } = client();
  c.request('describe');
  worker().onmessage({ data: { v: PROTOCOL_VERSION + 1, type: 'described', id: 1, payload: {} } });
  assert.equal(c.pendingCount, 1);
  assert.equal(events[0].type, 'error');
  assert.equal(events[0].payload.code, 'ProtocolError');
  assert.match(events[0].payload.message, /does not match this page's version/);
});

test('a crash rejects every pending request, restarts the worker and tells why', async () => {
  const { c, made, worker, crashes } = client();
  worker().reply('ready', { build: 'simd128' });
  const a = c.request('configure');
  const b = c.request('describe');
  let prevented = false;
  const first = worker();
  first.onerror({ message: 'RuntimeError: unreachable', preventDefault: () => (prevented = true) });
  assert.equal(prevented, true, 'the page handles the error itself');
  await assert.rejects(a, (err) => err.code === 'WorkerCrash' && /unreachable/.test(err.message));
  await assert.rejects(b, (err) => err.code === 'WorkerCrash');
  assert.equal(c.pendingCount, 0);
  assert.equal(first.terminated, true);
  assert.equal(made.length, 2, 'a new worker');
  assert.deepEqual(crashes, [{ reason: 'RuntimeError: unreachable', restarted: true }]);
  // The new worker takes requests, numbered on.
  const c2 = c.request('describe');
  assert.equal(worker().posted[0].msg.id, 3);
  worker().reply('described', { ok: true }, 3);
  assert.deepEqual(await c2, { ok: true });
});

test('an unreadable message is a crash too', () => {
  const { worker, crashes, made } = client();
  worker().reply('ready', {});
  worker().onmessageerror();
  assert.equal(made.length, 2);
  assert.equal(crashes[0].reason, 'a message from the worker could not be read');
});

test('a worker that crashes twice before it is ever ready is not restarted again', () => {
  const { worker, crashes, made } = client();
  worker().onerror({});
  assert.deepEqual(crashes[0], { reason: 'the worker failed to start', restarted: true });
  worker().onerror({});
  assert.deepEqual(crashes[1], { reason: 'the worker failed to start', restarted: false });
  assert.equal(made.length, 2);
});

test('once a restarted worker is ready, a later crash restarts it again', () => {
  const { worker, crashes, made } = client();
  worker().onerror({});
  worker().reply('ready', {});
  worker().onerror({});
  assert.equal(made.length, 3);
  assert.equal(crashes[1].restarted, true);
});

// A clock the test moves, and the watch it would run every 500 ms.
function clocked() {
  let t = 0;
  let watch = null;
  const options = { now: () => t, every: (fn) => (watch = fn) };
  // Moves time on in watch-sized steps, running the watch at each, as setInterval would.
  const pass = (ms, { step = 500 } = {}) => {
    for (let done = 0; done < ms; done += step) {
      t += step;
      watch();
    }
  };
  return { options, pass, jump: (ms) => ((t += ms), watch()) };
}

test('a ready worker that falls silent (no heartbeat) is replaced within the silence limit', async () => {
  const clock = clocked();
  const { c, worker, crashes, made } = client(clock.options);
  worker().reply('ready', {});
  const pending = c.request('configure', { runs: [{}] });
  // Heartbeats keep it alive.
  for (let i = 0; i < 10; i++) {
    clock.pass(1000);
    worker().reply('heartbeat', {});
  }
  assert.equal(made.length, 1);
  assert.equal(crashes.length, 0);
  // Then nothing (self.close(), an endless loop): counted dead after SILENCE_LIMIT_MS.
  clock.pass(SILENCE_LIMIT_MS);
  assert.equal(crashes.length, 0, 'not before the limit');
  clock.pass(500);
  assert.equal(crashes.length, 1);
  assert.match(crashes[0].reason, /stopped answering: nothing for 5 s/);
  assert.equal(made.length, 2, 'a new worker was started');
  assert.equal(made[0].terminated, true);
  await assert.rejects(pending, { code: 'WorkerCrash' });
});

test('heartbeats are not events, and a late watch (the page itself was busy) proves nothing', () => {
  const clock = clocked();
  const { worker, crashes, events } = client(clock.options);
  worker().reply('ready', {});
  worker().reply('heartbeat', {});
  assert.deepEqual(
    events.map((e) => e.type),
    ['ready'],
  );
  // The page's thread was blocked for 10 s: the worker's messages may be queued behind the watch.
  clock.jump(10000);
  assert.equal(crashes.length, 0);
  clock.pass(SILENCE_LIMIT_MS - 1000);
  assert.equal(crashes.length, 0);
});

test('a worker that is still loading is not judged by its silence', () => {
  const clock = clocked();
  const { crashes } = client(clock.options);
  clock.pass(20000);
  assert.equal(crashes.length, 0);
});

test('a fatal error (a wasm trap) replaces the worker and says why', () => {
  const { worker, crashes, made, events } = client();
  worker().reply('ready', {});
  worker().reply('error', { code: 'WasmTrap', fatal: true, message: 'the core panicked: index out of bounds' });
  assert.deepEqual(crashes, [{ reason: 'WasmTrap: the core panicked: index out of bounds', restarted: true }]);
  assert.equal(made.length, 2);
  assert.ok(!events.some((e) => e.type === 'error'), 'told once, as a crash');
});
