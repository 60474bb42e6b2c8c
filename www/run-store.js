// What the page keeps on this device across reloads, in IndexedDB (through
// the `idb` wrapper): the runs the user trained or uploaded (their
// configuration, curves, final numbers and model), the user's own images,
// and the curves kept on the charts.
//
// A run and its model are written in one transaction, so a full quota (or a
// closed tab) never leaves half a run behind. Every record carries the
// version of its layout (`v`): an older record is upgraded by MIGRATIONS, and
// one this page cannot read (older without a migration, or written by a
// newer page) is reported and left as it is, never a crash.

import { openDB } from './vendor/idb.js';

export const RECORD_VERSION = 1;
const DB_NAME = 'finetune-lab';
const DB_VERSION = 1;

// record layout version → a function upgrading it to the next version.
const MIGRATIONS = {};

export class StorageError extends Error {
  constructor(message, { full = false } = {}) {
    super(message);
    this.name = 'StorageError';
    this.full = full;
  }
}

const isQuota = (err) => err && (err.name === 'QuotaExceededError' || (err.inner && err.inner.name === 'QuotaExceededError'));

// The record as this page reads it, or {problem} saying why it cannot be.
function upgrade(record, what) {
  let r = record;
  const v = Number.isInteger(r && r.v) ? r.v : 0;
  if (v > RECORD_VERSION) return { problem: `${what} was saved by a newer Fine-Tune Lab (record version ${v}; this page reads up to ${RECORD_VERSION}); it is left as it is` };
  for (let at = v; at < RECORD_VERSION; at++) {
    if (!MIGRATIONS[at]) return { problem: `${what} was saved in record version ${at}, which this page cannot read; it is left as it is` };
    r = MIGRATIONS[at](r);
  }
  return { record: r };
}

export class RunStore {
  // Null when this browser keeps nothing (IndexedDB missing or refused, as
  // in some private windows): the page works on without saving.
  static async open() {
    if (!globalThis.indexedDB) return null;
    try {
      const db = await openDB(DB_NAME, DB_VERSION, {
        upgrade(db) {
          db.createObjectStore('runs', { keyPath: 'id', autoIncrement: true }); // everything but the model
          db.createObjectStore('models'); // run id → .ftlc bytes
          db.createObjectStore('page'); // 'images', 'kept'
        },
      });
      return new RunStore(db);
    } catch {
      return null;
    }
  }

  constructor(db) {
    this.db = db;
  }

  // Writes a run (`record` without an id) and its model in one transaction;
  // returns the new id. A full quota is a StorageError with `full` set, and
  // nothing of the run is kept.
  async saveRun(record, model) {
    const tx = this.db.transaction(['runs', 'models'], 'readwrite');
    tx.done.catch(() => {}); // its failure is the one caught below
    try {
      const id = await tx.objectStore('runs').add({ ...record, v: RECORD_VERSION, bytes: model.byteLength });
      await tx.objectStore('models').put(model, id);
      await tx.done;
      return id;
    } catch (err) {
      try {
        tx.abort();
      } catch {
        // already aborted by the failure itself
      }
      throw this.failure(err, `“${record.name}” was not saved`);
    }
  }

  // {runs: [record], problems: [text]}, oldest first.
  async listRuns() {
    const runs = [];
    const problems = [];
    for (const raw of await this.db.getAll('runs')) {
      const { record, problem } = upgrade(raw, `Saved run ${raw && raw.id}${raw && raw.name ? ` (“${raw.name}”)` : ''}`);
      if (record) runs.push(record);
      else problems.push(problem);
    }
    return { runs, problems };
  }

  model(id) {
    return this.db.get('models', id);
  }

  async renameRun(id, name) {
    const tx = this.db.transaction('runs', 'readwrite');
    const record = await tx.store.get(id);
    if (!record) throw new StorageError(`saved run ${id} is gone (deleted in another tab?)`);
    await tx.store.put({ ...record, name });
    await tx.done;
  }

  async deleteRun(id) {
    const tx = this.db.transaction(['runs', 'models'], 'readwrite');
    await Promise.all([tx.objectStore('runs').delete(id), tx.objectStore('models').delete(id), tx.done]);
  }

  // A page-wide record ('images': the user's own images, 'kept': the curves
  // kept on the charts); `value` null deletes it.
  async savePage(key, value, what) {
    try {
      if (value === null) await this.db.delete('page', key);
      else await this.db.put('page', { v: RECORD_VERSION, value }, key);
    } catch (err) {
      throw this.failure(err, `${what} ${what.endsWith('s') ? 'were' : 'was'} not saved`);
    }
  }

  // {value} or {problem}, or {} when nothing is kept under `key`.
  async loadPage(key, what) {
    const raw = await this.db.get('page', key);
    if (raw === undefined) return {};
    const { record, problem } = upgrade(raw, what);
    return record ? { value: record.value } : { problem };
  }

  async clear() {
    const tx = this.db.transaction(['runs', 'models', 'page'], 'readwrite');
    await Promise.all([...['runs', 'models', 'page'].map((s) => tx.objectStore(s).clear()), tx.done]);
  }

  // Turns a failed write into a message that says what happened and what to do.
  failure(err, what) {
    if (isQuota(err)) {
      return new StorageError(`The browser’s storage for this page is full: ${what}. Delete saved runs below (or clear everything) to make room; what was saved before is kept.`, {
        full: true,
      });
    }
    return new StorageError(`${what}: ${(err && err.message) || err}`);
  }
}

// {usage, quota, persisted} in bytes, from the browser (null where unknown).
export async function storageUse() {
  const storage = navigator.storage;
  if (!storage || !storage.estimate) return null;
  const { usage, quota } = await storage.estimate();
  const persisted = storage.persisted ? await storage.persisted() : false;
  return { usage, quota, persisted };
}

// Asks the browser not to evict this page's data when space is short
// (browsers decide; a refusal changes nothing else).
export async function askToPersist() {
  const storage = navigator.storage;
  if (!storage || !storage.persist) return false;
  try {
    return (await storage.persisted()) || (await storage.persist());
  } catch {
    return false;
  }
}
