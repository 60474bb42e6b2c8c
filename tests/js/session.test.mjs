// The page's session state machine (www/session.js): every transition, what
// each state lets the buttons do, and that illegal transitions throw.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session, SessionError, STATES } from '../../www/session.js';

// A session with its change events recorded, walked to `state` by legal transitions.
function sessionIn(state, { runs = 1 } = {}) {
  const events = [];
  const s = new Session({ onChange: (e) => events.push(e) });
  const walk = {
    loading: () => {},
    idle: () => s.workerReady(),
    configuring: () => {
      s.workerReady();
      s.configure();
    },
    ready: () => {
      walk.configuring();
      s.configured(runs);
    },
    training: () => {
      walk.ready();
      s.train();
    },
    paused: () => {
      walk.training();
      s.workerPaused();
    },
    done: () => {
      walk.training();
      s.runDone();
    },
    diverged: () => {
      walk.training();
      s.workerFailed('DivergedError');
    },
    crashed: () => {
      walk.training();
      s.workerCrashed();
    },
  };
  walk[state]();
  assert.equal(s.state, state);
  events.length = 0;
  return { s, events };
}

const buttons = (s) => ({ train: s.canTrain, pause: s.canPause, step: s.canStep, reset: s.canReset, keep: s.canKeep });

test('a new session is loading and allows nothing', () => {
  const s = new Session();
  assert.equal(s.state, 'loading');
  assert.deepEqual(buttons(s), { train: false, pause: false, step: false, reset: false, keep: false });
  assert.equal(s.workerUsable, false);
  assert.equal(s.canDescribe, false);
});

test('the buttons each state allows', () => {
  const expected = {
    loading: { train: false, pause: false, step: false, reset: false, keep: false },
    idle: { train: true, pause: false, step: true, reset: false, keep: false },
    configuring: { train: false, pause: false, step: false, reset: false, keep: false },
    ready: { train: true, pause: false, step: true, reset: true, keep: false },
    training: { train: false, pause: true, step: false, reset: true, keep: false },
    paused: { train: true, pause: false, step: true, reset: true, keep: true },
    done: { train: true, pause: false, step: false, reset: true, keep: true },
    diverged: { train: true, pause: false, step: true, reset: true, keep: true },
    crashed: { train: false, pause: false, step: false, reset: false, keep: false },
  };
  assert.deepEqual(Object.keys(expected).sort(), [...STATES].sort());
  for (const [state, allowed] of Object.entries(expected)) assert.deepEqual(buttons(sessionIn(state).s), allowed, state);
});

test('loading → idle when the worker is ready; change events report each move', () => {
  const events = [];
  const s = new Session({ onChange: (e) => events.push(e) });
  s.workerReady();
  assert.equal(s.state, 'idle');
  assert.deepEqual(events, [{ type: 'state', from: 'loading', to: 'idle' }]);
  assert.equal(s.workerUsable, true);
  assert.equal(s.canDescribe, true);
  assert.equal(s.trainResumes, false, 'no run yet: Train configures one');
  assert.equal(s.stepConfigures, true);
});

test('idle → configuring → ready → training: the worker then holds a run matching the form', () => {
  const { s, events } = sessionIn('idle');
  s.configure();
  assert.equal(s.state, 'configuring');
  assert.equal(s.hasRun, false);
  s.configured(1);
  assert.equal(s.state, 'ready');
  assert.equal(s.hasRun, true);
  assert.equal(s.runMatchesForm, true);
  assert.equal(s.layersLive, true, 'a single run: layer changes go to the worker');
  assert.equal(s.trainResumes, true);
  s.train();
  assert.equal(s.state, 'training');
  assert.equal(s.formLocked, true);
  assert.equal(s.canDescribe, false);
  assert.deepEqual(events.map((e) => e.to), ['configuring', 'ready', 'training']);
});

test('several runs are never layer-live', () => {
  const { s } = sessionIn('ready', { runs: 3 });
  assert.equal(s.layersLive, false);
  assert.equal(s.runCount, 3);
});

test('training → paused on the worker’s confirmation, and Train resumes', () => {
  const { s } = sessionIn('training');
  assert.equal(s.workerPaused(), true);
  assert.equal(s.state, 'paused');
  assert.equal(s.formLocked, false);
  assert.equal(s.trainResumes, true);
  s.train();
  assert.equal(s.state, 'training');
});

test('a late pause confirmation (after Reset, or answering Step) changes nothing', () => {
  const { s, events } = sessionIn('paused');
  assert.equal(s.workerPaused(), false);
  assert.equal(s.state, 'paused');
  const idle = sessionIn('idle').s;
  assert.equal(idle.workerPaused(), false);
  assert.equal(idle.state, 'idle');
  assert.deepEqual(events, []);
});

test('step: from ready, paused or diverged to paused', () => {
  for (const from of ['ready', 'paused', 'diverged']) {
    const { s } = sessionIn(from);
    assert.equal(s.stepConfigures, false, from);
    s.step();
    assert.equal(s.state, 'paused', from);
  }
});

test('training or paused → done when every run finished; done has no step left', () => {
  for (const from of ['training', 'paused']) {
    const { s } = sessionIn(from);
    assert.deepEqual(s.runDone(), { sweepK: null, sweepNext: null });
    assert.equal(s.state, 'done');
    assert.equal(s.trainResumes, false, 'Train after done starts a new run');
    assert.equal(s.canStep, false);
  }
});

test('a diverged run keeps its run: Train retries it, Keep keeps it', () => {
  const { s } = sessionIn('training');
  assert.equal(s.workerFailed('DivergedError'), true);
  assert.equal(s.state, 'diverged');
  assert.equal(s.hasRun, true);
  assert.equal(s.trainResumes, true);
  assert.equal(s.canKeep, true);
});

test('another error during a run pauses it', () => {
  const { s } = sessionIn('training');
  assert.equal(s.workerFailed('RuntimeError'), true);
  assert.equal(s.state, 'paused');
});

test('an error while the worker loads means it cannot start: crashed', () => {
  const s = new Session();
  assert.equal(s.workerFailed('Error'), true);
  assert.equal(s.state, 'crashed');
});

test('an error without a run, or while runs are being built, leaves the state to the request', () => {
  const { s } = sessionIn('idle');
  assert.equal(s.workerFailed('StateError'), false);
  assert.equal(s.state, 'idle');
  const c = sessionIn('configuring').s;
  assert.equal(c.workerFailed('StateError'), false);
  assert.equal(c.state, 'configuring');
});

test('configure fails: back where it came from, the old run untouched', () => {
  for (const from of ['idle', 'paused', 'done', 'diverged', 'ready']) {
    const { s } = sessionIn(from);
    const hadRun = s.hasRun;
    s.configure();
    s.configureFailed();
    assert.equal(s.state, from, from);
    assert.equal(s.hasRun, hadRun);
  }
});

test('a crash forgets the run from any state; the restarted worker’s ready makes it idle', () => {
  for (const from of STATES) {
    const { s } = sessionIn(from);
    s.workerCrashed();
    assert.equal(s.state, 'crashed', from);
    assert.equal(s.hasRun, false);
    assert.equal(s.sweep, null);
    assert.equal(s.workerUsable, false);
    s.workerReady();
    assert.equal(s.state, 'idle');
    assert.equal(s.canReset, false);
  }
});

test('reset: from every state with a run to idle, without a run', () => {
  for (const from of ['ready', 'training', 'paused', 'done', 'diverged']) {
    const { s } = sessionIn(from);
    s.reset();
    assert.equal(s.state, 'idle', from);
    assert.equal(s.hasRun, false);
    assert.equal(s.acceptsRunNews, false, 'the reset run’s late news is dropped');
    assert.equal(s.settingsChanged, false);
  }
});

test('a settings change while stopped makes the next Train start a new run (once)', () => {
  const { s, events } = sessionIn('paused');
  assert.equal(s.settingsEdited(), true);
  assert.equal(s.settingsChanged, true);
  assert.equal(s.runMatchesForm, false);
  assert.equal(s.trainResumes, false);
  assert.equal(s.stepConfigures, true);
  assert.equal(s.layersLive, false);
  assert.equal(s.canDescribe, true);
  assert.equal(s.settingsEdited(), false, 'already changed');
  assert.deepEqual(events, [{ type: 'settingsChanged' }]);
  s.configure();
  s.configured(1);
  assert.equal(s.settingsChanged, false);
});

test('after done, a settings change lets Step configure a new run', () => {
  const { s } = sessionIn('done');
  assert.equal(s.canStep, false);
  s.settingsEdited();
  assert.equal(s.canStep, true);
  assert.equal(s.stepConfigures, true);
});

test('a settings change without any run changes nothing', () => {
  const { s, events } = sessionIn('idle');
  assert.equal(s.settingsEdited(), false);
  assert.equal(s.settingsChanged, false);
  assert.deepEqual(events, []);
});

test('a change while training (or while the run is built) applies once the run stops', () => {
  for (const [from, stop] of [
    ['training', (s) => s.workerPaused()],
    ['training', (s) => s.runDone()],
    ['configuring', (s) => (s.configured(1), s.step())],
  ]) {
    const { s, events } = sessionIn(from);
    assert.equal(s.settingsEdited(), false, 'not yet');
    assert.equal(s.settingsChanged, false);
    stop(s);
    assert.equal(s.settingsChanged, true, from);
    assert.ok(events.some((e) => e.type === 'settingsChanged'));
  }
});

test('Reset drops a change noted while training', () => {
  const { s } = sessionIn('training');
  s.settingsEdited();
  s.reset();
  assert.equal(s.pendingChange, false);
  assert.equal(s.settingsChanged, false);
});

test('a sweep configures and trains every K in order, then is done', () => {
  const { s } = sessionIn('idle');
  const runsFor = (k) => [`runs for ${k}`];
  s.startSweep(runsFor, [1, 2, 5]);
  assert.equal(s.sweepK, 1);
  assert.equal(s.canKeep, false);
  const finished = [];
  for (;;) {
    s.configure({ sweep: true });
    assert.deepEqual(s.sweep.runsFor(s.sweepK), [`runs for ${s.sweepK}`]);
    s.configured(2);
    s.train();
    assert.equal(s.canKeep, false, 'no Keep mid-sweep');
    const { sweepK, sweepNext } = s.runDone();
    finished.push(sweepK);
    if (sweepNext === null) break;
    assert.equal(s.state, 'training', 'between two K the sweep is still training');
    assert.equal(s.sweepK, sweepNext);
  }
  assert.deepEqual(finished, [1, 2, 5]);
  assert.equal(s.state, 'done');
  assert.equal(s.sweep, null);
  assert.equal(s.canKeep, true);
});

test('a sweep can be paused, resumed and reset mid-way', () => {
  const { s } = sessionIn('idle');
  s.startSweep(() => [], [1, 2]);
  s.configure({ sweep: true });
  s.configured(2);
  s.train();
  s.workerPaused();
  assert.equal(s.trainResumes, true);
  s.train();
  assert.equal(s.sweepK, 1, 'resuming keeps the sweep');
  s.reset();
  assert.equal(s.sweep, null);
});

test('a sweep step that fails to configure ends the sweep; the last K’s run is done', () => {
  const { s } = sessionIn('idle');
  s.startSweep(() => [], [1, 2]);
  s.configure({ sweep: true });
  s.configured(2);
  s.train();
  s.runDone();
  s.configure({ sweep: true });
  s.configureFailed();
  assert.equal(s.state, 'done');
  assert.equal(s.sweep, null);
});

test('a plain configure ends a sweep', () => {
  const { s } = sessionIn('paused');
  s.startSweep(() => [], [1, 2]);
  s.configure();
  assert.equal(s.sweep, null);
});

test('illegal transitions throw, naming the transition and the state', () => {
  const illegal = [
    ['loading', (s) => s.configure(), /cannot configure while loading/],
    ['loading', (s) => s.train(), /cannot train while loading/],
    ['idle', (s) => s.train(), /cannot train while idle/],
    ['idle', (s) => s.step(), /cannot step while idle/],
    ['idle', (s) => s.reset(), /cannot reset while idle without a run/],
    ['idle', (s) => s.runDone(), /cannot runDone while idle/],
    ['idle', (s) => s.workerReady(), /cannot workerReady while idle/],
    ['idle', (s) => s.configured(1), /cannot configured while idle/],
    ['idle', (s) => s.configureFailed(), /cannot configureFailed while idle/],
    ['idle', (s) => s.configure({ sweep: true }), /no sweep is under way/],
    ['idle', (s) => s.startSweep(() => [], []), /at least one K/],
    ['configuring', (s) => s.configure(), /cannot configure while configuring/],
    ['configuring', (s) => s.train(), /cannot train while configuring/],
    ['configuring', (s) => s.reset(), /cannot reset while configuring/],
    ['configuring', (s) => s.runDone(), /cannot runDone while configuring/],
    ['training', (s) => s.train(), /cannot train while training/],
    ['training', (s) => s.step(), /cannot step while training/],
    ['training', (s) => s.configure(), /cannot configure while training/],
    ['training', (s) => s.startSweep(() => [], [1]), /cannot start a sweep while training/],
    ['training', (s) => s.workerReady(), /cannot workerReady while training/],
    ['done', (s) => s.train(), /cannot train while done/],
    ['done', (s) => s.step(), /cannot step while done/],
    ['done', (s) => s.runDone(), /cannot runDone while done/],
    ['crashed', (s) => s.configure(), /cannot configure while crashed/],
    ['crashed', (s) => s.reset(), /cannot reset while crashed/],
    ['crashed', (s) => s.train(), /cannot train while crashed/],
  ];
  for (const [state, transition, message] of illegal) {
    const { s, events } = sessionIn(state);
    assert.throws(() => transition(s), (err) => err instanceof SessionError && message.test(err.message), `${state}: ${message}`);
    assert.equal(s.state, state, 'an illegal transition leaves the state as it was');
    assert.deepEqual(events, []);
  }
});

test('Download model is offered whenever the worker holds a run that is not training or being built', () => {
  const s = new Session();
  assert.equal(s.canDownload, false, 'loading');
  s.workerReady();
  assert.equal(s.canDownload, false, 'no run yet');
  s.configure();
  assert.equal(s.canDownload, false, 'configuring');
  s.configured(1);
  assert.equal(s.canDownload, true, 'ready');
  s.train();
  assert.equal(s.canDownload, false, 'training');
  s.workerFailed('DivergedError');
  assert.equal(s.state, 'diverged');
  assert.equal(s.canDownload, true, 'a diverged run keeps its last finite weights to download');
  s.workerCrashed();
  assert.equal(s.canDownload, false, 'a crashed worker holds nothing');
});
