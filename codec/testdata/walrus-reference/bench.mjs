#!/usr/bin/env node
// Times Walrus's reference encoder (@mysten/walrus-wasm, single-threaded Wasm) so haulout's speed has
// a yardstick. Two measurements, each the median of --runs:
//   blobId: compute_metadata, i.e. what `haulout blob-id` does (expand + hash, no slivers kept);
//   encode: full encode writing every BCS sliver into JS buffers (allocating them is timed too,
//           since a caller has to).
//
//   node bench.mjs --file PATH --n-shards N [--runs 3]
import { BlobEncoder } from '@mysten/walrus-wasm';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { params, symbolSize } from './lib.mjs';

const { values } = parseArgs({
	options: { file: { type: 'string' }, 'n-shards': { type: 'string' }, runs: { type: 'string', default: '3' } },
});
const n = Number(values['n-shards']), runs = Number(values.runs);
if (!values.file || !Number.isInteger(n) || n < 4 || !(runs >= 1)) {
	console.error('usage: node bench.mjs --file PATH --n-shards N (>= 4) [--runs 3]');
	process.exit(2);
}
const data = readFileSync(values.file);
const s = symbolSize(n, data.length);
if (s === null) throw new Error(`${data.length} bytes is too large for ${n} shards`);
const { k1, k2 } = params(n);
const bcsLen = (len) => len + 4 + (len < 128 ? 1 : len < 16384 ? 2 : len < 2097152 ? 3 : 4); // ULEB128 + data + u16 + u16

const enc = new BlobEncoder(n);
function time(fn) {
	const ms = [];
	for (let i = 0; i < runs; i++) {
		const t = performance.now();
		fn();
		ms.push(performance.now() - t);
	}
	ms.sort((a, b) => a - b);
	const median = ms[Math.floor(ms.length / 2)];
	const MBps = (t) => +(data.length / 1e6 / (t / 1000)).toFixed(2);
	// min is reported too: on a shared 2-core machine the median can be mostly other people's load.
	return { medianMs: Math.round(median), MBps: MBps(median), minMs: Math.round(ms[0]), maxMBps: MBps(ms[0]), runsMs: ms.map(Math.round) };
}

const blobId = time(() => enc.compute_metadata(data));
const encode = time(() => {
	const primary = Array.from({ length: n }, () => new Uint8Array(bcsLen(k2 * s)));
	const secondary = Array.from({ length: n }, () => new Uint8Array(bcsLen(k1 * s)));
	enc.encode(data, primary, secondary);
});
enc.free();
console.log(JSON.stringify({
	file: values.file, bytes: data.length, nShards: n, symbolSize: s, runs,
	blobId, encode,
	maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
	loadAvg1: +loadavg()[0].toFixed(2), // > 1 on this 2-core box means the numbers are contended
}));
