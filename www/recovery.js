// What it takes to bring a run back after its worker died: the run specs the
// worker held, every run's latest resume point (the worker's `snapshot`
// messages) and the charts' mark taken with it, so the restored run's points
// after that mark, which it trains again, are not drawn twice.
//
// A point is used once: a worker that dies again while restoring it (a
// crash the run itself causes) is not fed it again.

export class Recovery {
  constructor() {
    this.point = null; // {specs, runs: [{name, bytes, busyMs}], mark, step}
  }

  // The worker's snapshot message for the runs `specs`, with the charts' mark.
  save(specs, snapshot, mark) {
    this.point = { specs, runs: snapshot.runs, mark };
  }

  // New runs, or a Reset: the old points no longer belong to anything shown.
  forget() {
    this.point = null;
  }

  get available() {
    return this.point !== null;
  }

  take() {
    const point = this.point;
    this.point = null;
    return point;
  }
}
