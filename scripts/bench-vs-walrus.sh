#!/usr/bin/env bash
# Times Walrus's own encoder (@mysten/walrus-wasm in Node) and `haulout blob-id`
# on the same random file, in the same run, and prints the ratio of medians.
#
#   scripts/bench-vs-walrus.sh [SIZE_MiB=64] [N_SHARDS=1000] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-64}
n=${2:-1000}
runs=${3:-3}
ref=codec/testdata/walrus-reference

command -v node >/dev/null || { echo "node is needed for the reference encoder" >&2; exit 1; }
[ -d "$ref/node_modules/@mysten/walrus-wasm" ] || (cd "$ref" && npm ci --no-audit --no-fund >/dev/null)
go build -o bin/haulout ./cmd/haulout

file=$(mktemp /tmp/haulout-bench.XXXXXX)
trap 'rm -f "$file"' EXIT
head -c $((size_mib << 20)) /dev/urandom >"$file"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "file: ${size_mib} MiB random, ${n} shards, ${runs} runs each (medians)"
walrus_json=$(cd "$ref" && node bench.mjs --file "$file" --n-shards "$n" --runs "$runs")
walrus_ms=$(node -e 'const r = JSON.parse(process.argv[1]); console.log(r.blobId.medianMs)' "$walrus_json")

times=()
for _ in $(seq "$runs"); do
	start=$(date +%s%N)
	id=$(bin/haulout blob-id --n-shards "$n" "$file")
	end=$(date +%s%N)
	times+=($(((end - start) / 1000000)))
done
haulout_ms=$(printf '%s\n' "${times[@]}" | median)

walrus_id=$(node -e '
const { BlobEncoder } = require(process.argv[1]);
const e = new BlobEncoder(Number(process.argv[2]));
const [id] = e.compute_metadata(require("fs").readFileSync(process.argv[3]));
console.log(Buffer.from(id).toString("base64url"));' "$PWD/$ref/node_modules/@mysten/walrus-wasm" "$n" "$file")

echo "walrus-wasm compute_metadata: ${walrus_ms} ms   (blob ID ${walrus_id})"
echo "haulout blob-id:              ${haulout_ms} ms   (blob ID ${id})"
[ "$id" = "$walrus_id" ] || { echo "BLOB IDS DIFFER" >&2; exit 1; }
awk -v w="$walrus_ms" -v h="$haulout_ms" 'BEGIN { printf "haulout is %.1fx faster\n", w / h }'
