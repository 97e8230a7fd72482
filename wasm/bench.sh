#!/usr/bin/env bash
# Figures for haulout's WebAssembly builds, in one run:
#   1. size of each .wasm, raw and gzipped (-9), as `make wasm` builds them;
#   2. the js/wasm codec in Node against Walrus's own (@mysten/walrus-wasm)
#      on the same file, at each shard count: blob ID and full encode;
#   3. the wasip1 codec under wazero against the native codec (blob ID);
#   4. the example plugins under wazero, each way, on 8 MiB.
# Every time is a median of RUNS runs. On a shared machine, read the load
# average printed with them.
#
#   wasm/bench.sh                      # 16 MiB of random bytes, 1000 and 100 shards, 3 runs
#   FILE=some.bin SHARDS="1000" RUNS=5 wasm/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
SHARDS=${SHARDS:-"1000 100"}
GO=${GO:-go}
REFERENCE=codec/testdata/walrus-reference

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== build (make wasm)"
make --no-print-directory wasm BIN="$work/bin" GO="$GO" >/dev/null
out=$work/bin/wasm

if [ -z "${FILE:-}" ]; then
	FILE=$work/random-16MiB.bin
	head -c $((16 << 20)) /dev/urandom >"$FILE"
fi
echo "input: $FILE ($(stat -c %s "$FILE") bytes); runs: $RUNS; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== sizes"
printf '%-34s %12s %12s\n' file raw gzip-9
for f in haulout.wasm haulout-wasip1.wasm plugins/gzip.wasm plugins/aesgcm.wasm wasm_exec.js haulout.js worker.js; do
	raw=$(stat -c %s "$out/$f")
	gz=$(gzip -9c "$out/$f" | wc -c)
	awk -v f="$f" -v raw="$raw" -v gz="$gz" 'function size(b) { return b < 1048576 ? sprintf("%.1f KiB", b / 1024) : sprintf("%.2f MiB", b / 1048576) }
		BEGIN { printf "%-34s %12s %12s\n", f, size(raw), size(gz) }'
done

echo
echo "== js/wasm in Node $(node --version) vs @mysten/walrus-wasm (ms, median of $RUNS; MB/s)"
have_ref=false
if [ -d "$REFERENCE/node_modules/@mysten/walrus-wasm" ]; then
	have_ref=true
else
	echo "(Walrus's encoder is not installed: run make reference, or cd $REFERENCE && npm ci)"
fi
printf '%-8s %-22s %14s %14s\n' shards codec blob-id encode
row() { # shards name json
	node -e '
		const r = JSON.parse(process.argv[1]);
		const f = (x) => `${x.medianMs} (${x.MBps})`;
		console.log(process.argv[2].padEnd(8), process.argv[3].padEnd(22), f(r.blobId).padStart(14), f(r.encode).padStart(14), ` load ${r.loadAvg1}`);
	' "$3" "$1" "$2"
}
for n in $SHARDS; do
	ours=$(node wasm/js/bench.mjs --wasm "$out/haulout.wasm" --wasm-exec "$out/wasm_exec.js" --file "$FILE" --n-shards "$n" --runs "$RUNS")
	row "$n" "haulout js/wasm" "$ours"
	if $have_ref; then
		ref=$(cd "$REFERENCE" && node bench.mjs --file "$FILE" --n-shards "$n" --runs "$RUNS")
		row "$n" "@mysten/walrus-wasm" "$ref"
	fi
done

echo
echo "== wasip1 under wazero vs native (blob ID, ms, median of $RUNS)"
shards_re="^n=($(echo $SHARDS | tr ' ' '|'))\$"
HAULOUT_BENCH_FILE=$FILE $GO test -run '^$' -bench "BenchmarkBlobID/$shards_re/" -benchtime 1x -count "$RUNS" -timeout 0 ./wasm/host >"$work/bench.txt"
# Lines: BenchmarkBlobID/n=1000/native-2   1   1234567 ns/op   13.6 MB/s
awk '/^BenchmarkBlobID\// {
		name = $1; sub(/^BenchmarkBlobID\//, "", name); sub(/-[0-9]+$/, "", name)
		t[name] = t[name] " " $3
	}
	END {
		for (name in t) {
			n = split(substr(t[name], 2), v, " ")
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { x = v[i]; v[i] = v[j]; v[j] = x }
			printf "%-40s %10.0f ms\n", name, v[int((n + 1) / 2)] / 1e6
		}
	}' "$work/bench.txt" | sort
echo "(native: all cores with AVX2; native-1core: GOMAXPROCS=1; wazero: as package host runs it, stoppable by a context;"
echo " wazero-uninterruptible: without wazero's close-on-context-done checks)"

echo
echo "== plugins under wazero (8 MiB: half text, half random; median of $RUNS)"
$GO test -run '^$' -bench 'BenchmarkPlugins' -benchtime 1x -count "$RUNS" -timeout 0 ./wasm/plugin >"$work/plugins.txt"
# Lines: BenchmarkPlugins/gzip/forward-2   1   1234567 ns/op   6.80 MB/s
awk '/^BenchmarkPlugins\// {
		name = $1; sub(/^BenchmarkPlugins\//, "", name); sub(/-[0-9]+$/, "", name)
		t[name] = t[name] " " $3
	}
	END {
		for (name in t) {
			n = split(substr(t[name], 2), v, " ")
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { x = v[i]; v[i] = v[j]; v[j] = x }
			ms = v[int((n + 1) / 2)] / 1e6
			printf "%-40s %10.0f ms %8.2f MB/s\n", name, ms, 8 * 1.048576 / (ms / 1000)
		}
	}' "$work/plugins.txt" | sort
