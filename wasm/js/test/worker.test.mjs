// haulout.js driving worker.js, as a page does; the Web Worker is a
// node:worker_threads Worker behind web-worker-shim.mjs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Haulout } from '../haulout.js';
import { paths, utf8, input } from './load.mjs';

// WebWorker gives a worker_threads Worker the Web Worker interface that
// haulout.js uses.
class WebWorker {
	constructor() {
		this.w = new Worker(new URL('./web-worker-shim.mjs', import.meta.url), {
			workerData: { script: fileURLToPath(new URL('../worker.js', import.meta.url)) },
		});
	}
	postMessage(msg, transfer) {
		this.w.postMessage(msg, transfer);
	}
	addEventListener(type, fn) {
		if (type === 'message') this.w.on('message', (data) => fn({ data }));
		if (type === 'error') this.w.on('error', (err) => fn({ message: err.message }));
	}
	terminate() {
		this.w.terminate();
	}
}

async function start() {
	const h = new Haulout(new WebWorker());
	assert.equal(await h.init({ wasmUrl: paths.wasm, wasmExecUrl: paths.wasmExec }), 1);
	return h;
}

const h = await start();
after(() => h.terminate());

test('blob IDs through the worker', async () => {
	assert.equal(await h.blobId(utf8('hello world'), 1000), 'vldooumlbSRuiUvv54k0MowsF5afG7SVC0b9oXufbzQ');
	assert.equal(await h.blobId(utf8('hello world'), 10), 'kfhAwEGrCYXNqnGv2jNMEVS3pX0yVV5M15csfujtUDg');
	assert.equal(await h.blobId(new Uint8Array(0), 1000), '3GPQL3HZNnFhN_F7l5Aa-X1VOtAKwIsg9zuWk8R81v4');
});

test('encode and decode with progress, buffers transferred', async () => {
	const data = input(200_000, 3);
	const events = [];
	const enc = await h.encode(data.slice(), 100, { onProgress: (p) => events.push(p) });
	assert.equal(enc.pairs.length, 100);
	assert.ok(enc.pairs[0].primary instanceof Uint8Array);
	assert.deepEqual([...new Set(events.map((e) => e.phase))], ['read', 'encode', 'write']);
	assert.deepEqual(events.at(-1), { op: 'encode', phase: 'write', done: 100, total: 100 });

	// transfer: the caller's buffer moves to the worker.
	const moved = data.slice();
	assert.equal(await h.blobId(moved, 100, { transfer: true }), enc.blobId);
	assert.equal(moved.byteLength, 0);

	const back = await h.decode(enc.metadataWithIdBcs, enc.pairs.slice(50), 100);
	assert.deepEqual(back, data);
	const lim = await h.limits(data.length, 100);
	assert.equal(lim.symbolSize, enc.symbolSize);
});

test('errors keep their code across the worker', async () => {
	await assert.rejects(h.blobId(utf8('x'), 2), (err) => err.code === 'invalid-shards' && /invalid number of shards/.test(err.message));
	await assert.rejects(h.call('nope', []), (err) => err.code === 'invalid-argument');
	// Still serving after errors; calls run in order.
	const ids = await Promise.all([h.blobId(utf8('a'), 10), h.blobId(utf8('b'), 10), h.blobId(utf8('a'), 10)]);
	assert.equal(ids[0], ids[2]);
	assert.notEqual(ids[0], ids[1]);
});

test('terminate rejects what is pending', async () => {
	const other = await start();
	const p = other.blobId(new Uint8Array(1 << 20), 1000);
	other.terminate();
	await assert.rejects(p, /terminated/);
	await assert.rejects(other.blobId(utf8('x'), 10), /terminated/);
});

test('a missing module is an error, not a hang', async () => {
	const bad = new Haulout(new WebWorker());
	await assert.rejects(bad.init({ wasmUrl: '/nonexistent/haulout.wasm', wasmExecUrl: paths.wasmExec }), /ENOENT|nonexistent/);
	bad.terminate();
});
