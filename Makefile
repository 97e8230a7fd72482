# haulout: `make run` runs the system, `make test` runs every test.
# Every target is phony: Go's own caches decide what to rebuild.

GO           ?= go
BIN          ?= bin
# Longest time one package's tests may take (the codec's runs Walrus's encoder in Node).
TEST_TIMEOUT ?= 30m
# Extra flags for go test, e.g. make test GOTESTFLAGS=-race
GOTESTFLAGS  ?=
# Benchmarks: which ones (a -bench regexp), how many runs each (for benchstat), which packages.
BENCH        ?= .
COUNT        ?= 1
BENCH_PKGS   ?= $(sort $(patsubst %/,%,$(dir $(shell grep -rlE --include='*_test.go' \
                  --exclude-dir=testdata --exclude-dir=node_modules --exclude-dir=.git '^func Benchmark' .))))
# The Node harness that runs Walrus's own encoder (@mysten/walrus-wasm) for the codec's tests.
REFERENCE    := codec/testdata/walrus-reference

# In CI every test runs afresh: results cached by an earlier run on the same machine do not count.
ifeq ($(CI),true)
GOTESTFLAGS += -count=1
endif

.PHONY: all build run test test-go test-wasm reference bench wasm lint clean
# `make -j test` must still install the Node harness before the Go tests use it.
.NOTPARALLEL:

all: build

# -buildvcs=auto stamps the git revision for `haulout version`, even where the
# machine's go env turns stamping off.
# The binary embeds the browser codec for the web pages (web/codec, not
# committed): go generate ./web builds it from wasm/js first.
build:
	$(GO) generate ./web
	$(GO) build -buildvcs=auto -o $(BIN)/haulout ./cmd/haulout

run: build
	$(BIN)/haulout devnet

test: reference test-go test-wasm

# npm ci installs the pinned @mysten/walrus-wasm (Walrus's encoder) and, in
# codec/testdata/quilt-reference, the pinned @mysten/walrus (its TypeScript SDK,
# for quilts), so that the Go tests that compare with them find them. Without
# node they skip those tests.
reference:
	@for dir in $(REFERENCE) codec/testdata/quilt-reference; do \
		if [ -f $$dir/package.json ] && command -v node >/dev/null 2>&1; then \
			echo "cd $$dir && npm ci"; \
			(cd $$dir && npm ci --no-audit --no-fund) || exit 1; \
		else \
			echo "skipping npm ci in $$dir: no node, or no harness"; \
		fi; \
	done

test-go:
	$(GO) test -timeout $(TEST_TIMEOUT) $(GOTESTFLAGS) ./...

# The codec must build for browsers and WASI hosts.
test-wasm:
	GOOS=js GOARCH=wasm $(GO) build ./codec/...
	GOOS=wasip1 GOARCH=wasm $(GO) build ./codec/...

bench:
	@if [ -z "$(BENCH_PKGS)" ]; then echo "no benchmarks yet"; else \
		echo "$(GO) test -run '^\$$' -bench '$(BENCH)' -benchmem -count $(COUNT) $(BENCH_PKGS)"; \
		$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(COUNT) -timeout 0 $(BENCH_PKGS); \
	fi

# The WebAssembly builds (wasm/README.md): the codec for browsers (haulout.wasm,
# with Go's wasm_exec.js from the same toolchain, haulout.js and worker.js), the
# codec as a WASI command, and the example plugins. No symbol tables: smaller
# downloads. The tests build their own copies; this is what ships.
WASM_FLAGS := -trimpath -ldflags='-s -w'
wasm:
	@mkdir -p $(BIN)/wasm/plugins
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -o $(BIN)/wasm/haulout.wasm ./wasm/js
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" wasm/js/haulout.js wasm/js/worker.js $(BIN)/wasm/
	GOOS=wasip1 GOARCH=wasm $(GO) build $(WASM_FLAGS) -o $(BIN)/wasm/haulout-wasip1.wasm ./wasm/wasip1
	GOOS=wasip1 GOARCH=wasm $(GO) build $(WASM_FLAGS) -o $(BIN)/wasm/plugins/gzip.wasm ./wasm/plugins/gzip
	GOOS=wasip1 GOARCH=wasm $(GO) build $(WASM_FLAGS) -o $(BIN)/wasm/plugins/aesgcm.wasm ./wasm/plugins/aesgcm

lint:
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt wants to change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
