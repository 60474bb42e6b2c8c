// The worker protocol's envelope (www/protocol.js): every message carries the
// version, and a message of another version (or none) is named as an error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { message, versionError, PROTOCOL_VERSION } from '../../www/protocol.js';

test('a message is {v, type, id, payload}', () => {
  assert.deepEqual(message('configure', { runs: [] }, 7), { v: PROTOCOL_VERSION, type: 'configure', id: 7, payload: { runs: [] } });
  assert.deepEqual(message('pause'), { v: PROTOCOL_VERSION, type: 'pause', id: undefined, payload: {} });
});

test('a message of this version passes', () => {
  assert.equal(versionError(message('start')), null);
});

test('another version, no version, or no message at all is an error that says what to do', () => {
  for (const [msg, got] of [
    [{ v: PROTOCOL_VERSION + 1, type: 'start', payload: {} }, String(PROTOCOL_VERSION + 1)],
    [{ v: 1, type: 'start' }, '1'],
    [{ type: 'start' }, 'undefined'],
    [{ v: String(PROTOCOL_VERSION), type: 'start' }, String(PROTOCOL_VERSION)],
    [null, 'null'],
    [undefined, 'undefined'],
  ]) {
    const problem = versionError(msg);
    assert.equal(problem, `protocol version ${got} does not match this page's version ${PROTOCOL_VERSION}; reload the page`, JSON.stringify(msg));
  }
});
