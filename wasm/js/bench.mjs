#!/usr/bin/env node
// Times haulout's js/wasm codec in Node, in the shape of Walrus's harness
// (codec/testdata/walrus-reference/bench.mjs), so wasm/bench.sh can set the
// two side by side. Each figure is the median of --runs:
//   blobId: haulout.blobId (expand and hash, no slivers kept);
//   encode: haulout.encode, every BCS sliver copied out into JS buffers.
//
//   node bench.mjs --wasm haulout.wasm --wasm-exec wasm_exec.js --file PATH --n-shards N [--runs 3]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({
	options: {
		wasm: { type: 'string' },
		'wasm-exec': { type: 'string' },
		file: { type: 'string' },
		'n-shards': { type: 'string' },
		runs: { type: 'string', default: '3' },
	},
});
const n = Number(values['n-shards']);
const runs = Number(values.runs);
if (!values.wasm || !values['wasm-exec'] || !values.file || !Number.isInteger(n) || !(runs >= 1)) {
	console.error('usage: node bench.mjs --wasm haulout.wasm --wasm-exec wasm_exec.js --file PATH --n-shards N [--runs 3]');
	process.exit(2);
}

await import(pathToFileURL(values['wasm-exec']).href);
const go = new globalThis.Go();
const { instance } = await WebAssembly.instantiate(readFileSync(values.wasm), go.importObject);
go.run(instance);
const h = globalThis.haulout;
const data = new Uint8Array(readFileSync(values.file));

async function time(fn) {
	const ms = [];
	for (let i = 0; i < runs; i++) {
		const t = performance.now();
		await fn();
		ms.push(performance.now() - t);
	}
	ms.sort((a, b) => a - b);
	const median = ms[Math.floor(ms.length / 2)];
	const MBps = (t) => +(data.length / 1e6 / (t / 1000)).toFixed(2);
	return { medianMs: Math.round(median), MBps: MBps(median), minMs: Math.round(ms[0]), maxMBps: MBps(ms[0]), runsMs: ms.map(Math.round) };
}

const { symbolSize } = await h.limits(data.length, n);
const blobId = await time(() => h.blobId(data, n));
const encode = await time(() => h.encode(data, n));
console.log(JSON.stringify({
	file: values.file, bytes: data.length, nShards: n, symbolSize, runs,
	blobId, encode,
	maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
	loadAvg1: +loadavg()[0].toFixed(2),
}));
process.exit(0);
