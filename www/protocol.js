// The worker protocol, shared by the page and the worker.
//
// Every message is {v, type, id?, payload}. Types, main → worker:
//   configure {datasetUrl, config}  build a new run (replaces the old one)
//   start                           train until done or paused
//   pause                           stop after the current chunk of steps
//   step                            one training step (plus any evaluation it triggers)
// worker → main:
//   ready {build}                   the wasm module is loaded
//   configured {dataset, layers, paramCount, status}
//   progress {windows, evals, status, imagesPerSec}   a few per second while training
//   paused {status} / done {status, test}
//   error {code, message, replyTo}  code is the error's name (DatasetError, ConfigError,
//                                   DivergedError, ProtocolError, …)
// A message with another version is answered with an error, never guessed at.

export const PROTOCOL_VERSION = 1;

export function message(type, payload = {}, id = undefined) {
  return { v: PROTOCOL_VERSION, type, id, payload };
}

export function versionError(msg) {
  if (msg && msg.v === PROTOCOL_VERSION) return null;
  return `protocol version ${msg && msg.v} does not match this page's version ${PROTOCOL_VERSION}; reload the page`;
}
