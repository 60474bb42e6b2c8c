// The page's session: one explicit state machine for what the page is doing
// and what each button may do. Pure (no DOM, no Worker), so node unit-tests it
// (tests/js/session.test.mjs); main.js feeds it the user's presses and the
// worker's news, and renders it (buttons, fieldsets, body[data-state]).
//
//   loading ──workerReady──▶ idle ──configure──▶ configuring ──configured──▶ ready
//   ready/paused/diverged ──train──▶ training ──workerPaused──▶ paused
//   ready/paused/diverged ──step──▶ paused (one step in flight; Step at the end of a run → done)
//   training/paused ──runDone──▶ done     (a sweep with K left goes on configuring instead)
//   training ──workerFailed(DivergedError)──▶ diverged (curves and last finite weights kept);
//     another error stops the run as paused; while loading, the core could not start: crashed
//   configuring ──configureFailed──▶ where it came from (the old run, if any, is untouched)
//   any ──workerCrashed──▶ crashed ──workerReady──▶ idle   (the new worker holds no run)
//   ready/training/paused/done/diverged ──reset──▶ idle
//
// A transition from a state that does not allow it throws a SessionError:
// nothing is silently ignored. The worker's late news (a `paused` reply after
// Reset, progress of a run that was reset) is not a transition: `workerPaused`
// and `acceptsRunNews` say whether it still means anything.

export const STATES = ['loading', 'idle', 'configuring', 'ready', 'training', 'paused', 'done', 'diverged', 'crashed'];

// States in which the worker holds a run that can be trained further (Train resumes it).
const RESUMABLE = ['ready', 'paused', 'diverged'];
// States in which the worker is missing or busy building runs: most buttons wait.
const UNAVAILABLE = ['loading', 'crashed', 'configuring'];

export class SessionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SessionError';
  }
}

export class Session {
  // `onChange(event)` is called after every change: {type: 'state', from, to} or
  // {type: 'settingsChanged'} (the form no longer matches the worker's run).
  constructor({ onChange = () => {} } = {}) {
    this.onChange = onChange;
    this.state = 'loading';
    this.hasRun = false; // the worker holds a configured run list
    this.runCount = 0; // how many runs it holds (layers are live for a single run)
    this.settingsChanged = false; // the form was edited since that run was configured
    this.pendingChange = false; // edited while busy: becomes settingsChanged once the run stops
    this.sweep = null; // {runsFor: k → runs, ks, index} while a data-economy sweep is under way
    this.previous = null; // the state `configure` left, to go back to if it fails
  }

  // ---- What the buttons may do ----------------------------------------------

  get canTrain() {
    return ['idle', 'ready', 'paused', 'done', 'diverged'].includes(this.state);
  }

  // Train continues the worker's run instead of configuring a new one.
  get trainResumes() {
    return this.runMatchesForm && RESUMABLE.includes(this.state);
  }

  get canPause() {
    return this.state === 'training';
  }

  // Step takes one step of the current run (configuring one first if the form changed);
  // a finished run that matches the form has no step left.
  get canStep() {
    return ['idle', 'ready', 'paused', 'diverged'].includes(this.state) || (this.state === 'done' && this.settingsChanged);
  }

  // Step needs a new run first (none yet, or the form no longer matches it).
  get stepConfigures() {
    return !this.runMatchesForm;
  }

  get canReset() {
    return this.hasRun && !UNAVAILABLE.includes(this.state);
  }

  // "Keep on charts": a run that stopped (not mid-sweep) can be kept.
  get canKeep() {
    return this.hasRun && ['paused', 'done', 'diverged'].includes(this.state) && this.sweep === null;
  }

  // The worker holds a model to save as a checkpoint (not while it trains or builds).
  get canDownload() {
    return this.hasRun && ['ready', 'paused', 'done', 'diverged'].includes(this.state);
  }

  // The form's fieldsets are disabled while training (the augmentation sliders stay live).
  get formLocked() {
    return this.state === 'training';
  }

  // The worker can take requests (previews, descriptions, runs).
  get workerUsable() {
    return !['loading', 'crashed'].includes(this.state);
  }

  // The worker's run is what the form describes: the layers panel shows the
  // run's own layers and sends per-layer changes to the worker at once.
  get runMatchesForm() {
    return this.hasRun && !this.settingsChanged;
  }

  // Per-layer freeze / LR × go to the worker at once (a single live run that matches the form).
  get layersLive() {
    return this.runMatchesForm && this.runCount === 1 && !UNAVAILABLE.includes(this.state);
  }

  // The layers panel may preview the form's run (no run matching the form, nothing training).
  get canDescribe() {
    return !this.runMatchesForm && ['idle', 'paused', 'done', 'diverged'].includes(this.state);
  }

  // Progress and results from the worker belong to a run the page still shows.
  // (While new runs are being built, the old run's late news no longer counts.)
  get acceptsRunNews() {
    return this.hasRun && ['ready', 'training', 'paused', 'done', 'diverged'].includes(this.state);
  }

  // ---- Transitions ------------------------------------------------------------

  // The worker's wasm module is loaded (after the first start or a restart).
  workerReady() {
    this.expect('workerReady', ['loading', 'crashed']);
    this.go('idle');
  }

  // The worker stopped unexpectedly: it is restarted without any run.
  workerCrashed() {
    this.hasRun = false;
    this.runCount = 0;
    this.sweep = null;
    this.pendingChange = false;
    this.settingsChanged = false;
    this.go('crashed');
  }

  // The worker reported an error that answers no request. While it loads, the
  // core could not start; during a run, the run stopped (DivergedError: the
  // loss became NaN or infinite) with its curves and last finite weights kept.
  // Returns whether the state changed (the page shows the error either way).
  workerFailed(code) {
    if (['loading', 'crashed'].includes(this.state)) {
      this.go('crashed');
      return true;
    }
    // No run to stop, or a run list being built (its own reply settles the state).
    if (!this.hasRun || this.state === 'configuring') return false;
    this.go(code === 'DivergedError' ? 'diverged' : 'paused');
    return true;
  }

  // Starts building a run list from the form: Train or Step on a changed form
  // (which ends any sweep), or with {sweep: true} the sweep's next K.
  configure({ sweep = false } = {}) {
    if (sweep && !this.sweep) throw new SessionError('cannot configure a sweep step: no sweep is under way');
    // A sweep's next K follows the last one's end, which leaves the state as it was.
    this.expect('configure', sweep ? ['idle', 'ready', 'paused', 'done', 'diverged', 'training'] : ['idle', 'ready', 'paused', 'done', 'diverged']);
    if (!sweep) this.sweep = null;
    this.previous = this.state;
    this.go('configuring');
  }

  // The worker built the runs: it now holds them, matching the form as it was read.
  configured(runCount) {
    this.expect('configured', ['configuring']);
    this.hasRun = true;
    this.runCount = runCount;
    this.settingsChanged = false;
    this.go('ready');
  }

  // Building the runs failed: back where we were (a sweep stops; its last K's run is done).
  configureFailed() {
    this.expect('configureFailed', ['configuring']);
    this.sweep = null;
    const back = this.previous === 'training' ? 'done' : this.previous;
    this.go(this.hasRun ? back : 'idle');
  }

  // Starts (or resumes) training the worker's runs.
  train() {
    this.expect('train', RESUMABLE);
    if (!this.hasRun) throw new SessionError('cannot train: no run is configured');
    this.go('training');
  }

  // The worker confirmed a pause. Returns whether it changed the state: a
  // confirmation arriving after Reset, or answering a Step, changes nothing.
  workerPaused() {
    if (this.state !== 'training') return false;
    this.go('paused');
    return true;
  }

  // One training step of the worker's runs (the request is in flight; the page shows 'paused').
  step() {
    this.expect('step', RESUMABLE);
    if (!this.hasRun) throw new SessionError('cannot step: no run is configured');
    this.go('paused');
  }

  // Begins a data-economy sweep: one configure + train per K, in order.
  startSweep(runsFor, ks) {
    if (!this.canTrain) throw new SessionError(`cannot start a sweep while ${this.state}`);
    if (!ks.length) throw new SessionError('a sweep needs at least one K');
    this.sweep = { runsFor, ks, index: 0 };
  }

  // The sweep's current K (null outside a sweep).
  get sweepK() {
    return this.sweep ? this.sweep.ks[this.sweep.index] : null;
  }

  // Every run finished. Returns {sweepK, sweepNext}: the K just finished (in a
  // sweep) and the next K to configure, if any — the state then stays as it
  // is until `configure` — otherwise the session is done.
  runDone() {
    this.expect('runDone', ['training', 'paused', 'diverged']);
    if (this.sweep) {
      const sweepK = this.sweep.ks[this.sweep.index];
      this.sweep.index += 1;
      if (this.sweep.index < this.sweep.ks.length) return { sweepK, sweepNext: this.sweep.ks[this.sweep.index] };
      this.sweep = null;
      this.go('done');
      return { sweepK, sweepNext: null };
    }
    this.go('done');
    return { sweepK: null, sweepNext: null };
  }

  // Forgets the run (the worker is told to pause); kept runs stay on the charts.
  reset() {
    if (!this.canReset) throw new SessionError(`cannot reset while ${this.state}${this.hasRun ? '' : ' without a run'}`);
    this.hasRun = false;
    this.runCount = 0;
    this.sweep = null;
    this.settingsChanged = false;
    this.pendingChange = false;
    this.go('idle');
  }

  // The user changed a setting. Returns true when this makes the form differ
  // from the worker's run (the next Train starts a new run); while the run is
  // being built or trains, that is noted and takes effect once it stops.
  settingsEdited() {
    if (['configuring', 'ready', 'training'].includes(this.state)) {
      this.pendingChange = true;
      return false;
    }
    return this.markChanged();
  }

  // ---- Internals --------------------------------------------------------------

  markChanged() {
    if (!this.hasRun || this.settingsChanged) return false;
    this.settingsChanged = true;
    this.onChange({ type: 'settingsChanged' });
    return true;
  }

  expect(transition, allowed) {
    if (!allowed.includes(this.state)) throw new SessionError(`cannot ${transition} while ${this.state}`);
  }

  go(next) {
    if (!STATES.includes(next)) throw new SessionError(`unknown state '${next}'`);
    const from = this.state;
    this.state = next;
    this.onChange({ type: 'state', from, to: next });
    // A change made while busy applies once the run stops (or the new one exists).
    if (this.pendingChange && !['configuring', 'ready', 'training'].includes(next)) {
      this.pendingChange = false;
      this.markChanged();
    }
  }
}
