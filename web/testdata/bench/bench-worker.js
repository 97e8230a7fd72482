// Loads both codecs into this worker and times them on the same random
// bytes: haulout.wasm (GOOS=js) through globalThis.haulout, and Walrus's
// wasm-bindgen build of @mysten/walrus-wasm. Each message runs one op once.
'use strict';

let data = null;
let walrus = null;
const encoders = new Map(); // nShards -> walrus BlobEncoder

// BCS length of a sliver of len bytes of symbols: ULEB128 length, data,
// u16 symbol size, u16 index (as codec/testdata/walrus-reference/bench.mjs).
const bcsLen = (len) => len + 4 + (len < 128 ? 1 : len < 16384 ? 2 : len < 2097152 ? 3 : 4);

async function init(size) {
	importScripts('/codec/wasm_exec.js');
	const go = new Go();
	const { instance } = await WebAssembly.instantiateStreaming(fetch('/codec/haulout.wasm'), go.importObject);
	go.run(instance);
	walrus = await import('/walrus/walrus_wasm.js');
	await walrus.default({ module_or_path: '/walrus/walrus_wasm_bg.wasm' });
	data = new Uint8Array(size);
	for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, Math.min(size, i + 65536)));
	// Warm up: V8 compiles hot wasm functions again, optimized, after
	// their first calls; neither codec should pay that in the figures.
	const all = data;
	data = all.subarray(0, Math.min(size, 1 << 20));
	for (const codec of ['walrus', 'haulout']) {
		for (const op of ['blobId', 'encode']) await run(codec, op, 100);
	}
	data = all;
}

async function run(codec, op, n) {
	const h = globalThis.haulout;
	const t = performance.now();
	if (codec === 'haulout') {
		if (op === 'blobId') await h.blobId(data, n);
		else await h.encode(data, n);
	} else {
		let enc = encoders.get(n);
		if (!enc) encoders.set(n, (enc = new walrus.BlobEncoder(n)));
		if (op === 'blobId') {
			enc.compute_metadata(data);
		} else {
			// Sizes from haulout's limits (not timed: a caller knows them);
			// allocating the buffers is timed, as a caller must.
			const l = await h.limits(data.length, n);
			const t0 = performance.now();
			const primary = Array.from({ length: n }, () => new Uint8Array(bcsLen(l.primarySliverSize)));
			const secondary = Array.from({ length: n }, () => new Uint8Array(bcsLen(l.secondarySliverSize)));
			enc.encode(data, primary, secondary);
			return performance.now() - t0;
		}
	}
	return performance.now() - t;
}

self.onmessage = async (e) => {
	const { id, type } = e.data;
	try {
		if (type === 'init') {
			await init(e.data.size);
			self.postMessage({ id, ms: 0 });
		} else {
			self.postMessage({ id, ms: await run(e.data.codec, e.data.op, e.data.nShards) });
		}
	} catch (err) {
		self.postMessage({ id, error: String((err && err.stack) || err) });
	}
};
