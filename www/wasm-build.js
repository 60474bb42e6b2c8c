// Chooses which wasm build to load: the relaxed-SIMD build where the engine
// supports relaxed SIMD (Chromium ≥ 114, Firefox ≥ 146), else plain simd128.
// `?build=simd128` or `?build=relaxed` on the page forces one (for comparing).
// Used by the page's worker (www/pkg*) and the benchmark's (www/bench/pkg*,
// built with the `bench` cargo feature): each passes the folder holding its builds.

// A minimal module whose only function uses i32x4.relaxed_trunc_f32x4_s
// (opcode 0xfd 0x101): it validates only where relaxed SIMD exists.
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x19, 0x01, 0x17, 0x00, // code section: one body of 23 bytes, no locals
  0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
  0xfd, 0x81, 0x02, // i32x4.relaxed_trunc_f32x4_s
  0x0b, // end
]);

// Each build's module, relative to the folder that holds the pkg folders.
export const BUILDS = {
  simd128: 'pkg/finetune_lab.js',
  relaxed: 'pkg-relaxed/finetune_lab.js',
};

export function relaxedSimdSupported() {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

// Returns {name, url}; `requested` may be null (auto), 'simd128' or 'relaxed';
// `base` is the URL of the folder holding pkg/ and pkg-relaxed/ (default: www/).
export function chooseBuild(requested, base = new URL('./', import.meta.url)) {
  if (requested && !(requested in BUILDS)) throw new Error(`unknown build '${requested}' (known: ${Object.keys(BUILDS).join(', ')})`);
  if (requested === 'relaxed' && !relaxedSimdSupported()) throw new Error('this browser does not support relaxed SIMD');
  const name = requested || (relaxedSimdSupported() ? 'relaxed' : 'simd128');
  return { name, url: new URL(BUILDS[name], base).href };
}
