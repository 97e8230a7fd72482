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
build:
	$(GO) build -buildvcs=auto -o $(BIN)/haulout ./cmd/haulout

run: build
	$(BIN)/haulout help
	@echo
	@echo "make run will start a whole local network (haulout devnet) once issue 7 lands;"
	@echo "today it builds $(BIN)/haulout and shows its help."

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

# The js and wasip1 builds of the codec. Until the wasm/ entry points exist
# these are the compiled packages, a check that the codec builds for both.
wasm:
	@mkdir -p $(BIN)/wasm
	GOOS=js GOARCH=wasm $(GO) build -o $(BIN)/wasm/codec-js.a ./codec
	GOOS=wasip1 GOARCH=wasm $(GO) build -o $(BIN)/wasm/codec-wasip1.a ./codec

lint:
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt wants to change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
