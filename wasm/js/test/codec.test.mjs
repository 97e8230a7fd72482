// The js/wasm codec in Node: known answers, byte-for-byte agreement with the
// native codec, round trips, and every kind of refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadHaulout, vectors, hex, utf8, input } from './load.mjs';

const h = await loadHaulout();

// rejects asserts that p rejects with a HauloutError of the given code.
async function rejects(p, code, match) {
	await assert.rejects(p, (err) => {
		assert.ok(err instanceof Error, `not an Error: ${err}`);
		assert.equal(err.code, code, err.message);
		if (match) assert.match(err.message, match);
		return true;
	});
}

test('known blob IDs (Walrus published answers)', async () => {
	assert.equal(await h.blobId(utf8('hello world'), 1000), 'vldooumlbSRuiUvv54k0MowsF5afG7SVC0b9oXufbzQ');
	assert.equal(await h.blobId(utf8('hello world'), 10), 'kfhAwEGrCYXNqnGv2jNMEVS3pX0yVV5M15csfujtUDg');
	assert.equal(await h.blobId(new Uint8Array(0), 1000), '3GPQL3HZNnFhN_F7l5Aa-X1VOtAKwIsg9zuWk8R81v4');
});

test('the API object', () => {
	assert.equal(h.apiVersion, 1);
	for (const m of ['blobId', 'computeMetadata', 'encode', 'decode', 'limits', 'setMemoryBudget']) {
		assert.equal(typeof h[m], 'function', m);
	}
});

test('the same bytes as the native codec', async (t) => {
	for (const v of vectors().cases) {
		await t.test(`n${v.nShards}/${v.size}`, async () => {
			const data = input(v.size, v.seed);
			const enc = await h.encode(data, v.nShards);
			// At 1000 shards every call costs seconds: encode stands for all three.
			const calls = v.nShards < 1000 ? [await h.computeMetadata(data, v.nShards), enc] : [enc];
			for (const md of calls) {
				assert.equal(md.blobId, v.blobId);
				assert.equal(hex(md.blobIdBytes), v.blobIdHex);
				assert.equal(hex(md.metadataBcs), v.metadataBcsHex);
				assert.equal(hex(md.metadataWithIdBcs), v.metadataWithIdBcsHex);
				assert.equal(hex(md.rootHash), v.rootHashHex);
				assert.equal(md.symbolSize, v.symbolSize);
				assert.equal(md.unencodedLength, v.size);
				assert.equal(md.encodingType, 'RS2');
			}
			if (v.nShards < 1000) assert.equal(await h.blobId(data, v.nShards), v.blobId);
			assert.equal(enc.pairs.length, v.nShards);
			for (const p of v.pairs) {
				assert.equal(hex(enc.pairs[p.pair].primary), p.primaryHex, `primary of pair ${p.pair}`);
				assert.equal(hex(enc.pairs[p.pair].secondary), p.secondaryHex, `secondary of pair ${p.pair}`);
			}
		});
	}
});

test('round trips', async (t) => {
	for (const [n, size] of [[4, 0], [10, 11], [10, 100_000], [100, 1 << 20], [1000, 12345]]) {
		await t.test(`n${n}/${size}`, async () => {
			const data = input(size, n + size);
			const enc = await h.encode(data, n);
			const k1 = enc.primarySourceSymbols;
			const k2 = enc.secondarySourceSymbols;
			// The last k1 pairs: real Reed-Solomon decoding, no systematic row given.
			const back = await h.decode(enc.metadataWithIdBcs, enc.pairs.slice(n - k1), n);
			assert.deepEqual(back, data);
			if (n >= 1000) return; // seconds per call: the other forms are covered below 1000
			// Metadata without the ID, primary slivers as bare Uint8Arrays, strict check.
			const prim = enc.pairs.slice(0, k1).map((p) => p.primary);
			assert.deepEqual(await h.decode(enc.metadataBcs, prim, n, { consistency: 'strict', blobId: enc.blobId }), data);
			// Secondary slivers only.
			const sec = enc.pairs.slice(0, k2).map((p) => ({ secondary: p.secondary }));
			assert.deepEqual(await h.decode(enc.metadataWithIdBcs, sec, undefined, { consistency: 'skip' }), data);
		});
	}
});

test('decode skips corrupt slivers and refuses too few', async () => {
	const n = 10;
	const data = input(5000, 7);
	const enc = await h.encode(data, n);
	const k1 = enc.primarySourceSymbols;
	const pairs = enc.pairs.map((p) => ({ primary: p.primary.slice(), secondary: p.secondary.slice() }));
	pairs[0].primary[3] ^= 1; // one corrupt primary sliver among all of them
	assert.deepEqual(await h.decode(enc.metadataWithIdBcs, pairs, n), data);
	// k1 primaries, one of them corrupt, and no secondaries to fall back on.
	const few = pairs.slice(0, k1).map((p) => p.primary);
	await rejects(h.decode(enc.metadataWithIdBcs, few, n), 'not-enough-slivers', /valid primary slivers/);
	// ...but with secondaries it falls back to them.
	const mixed = pairs.slice(0, k1).map((p) => p.primary).concat(pairs.map((p) => ({ secondary: p.secondary })));
	assert.deepEqual(await h.decode(enc.metadataWithIdBcs, mixed, n), data);
	await rejects(h.decode(enc.metadataWithIdBcs, [], n), 'not-enough-slivers');
});

test('decode checks the metadata', async () => {
	const enc = await h.encode(utf8('hello world'), 10);
	const other = await h.computeMetadata(utf8('hello world!'), 10);
	await rejects(h.decode(enc.metadataWithIdBcs, enc.pairs, 10, { blobId: other.blobId }), 'blob-id-mismatch');
	// BlobMetadataWithId whose ID is not the metadata's.
	const forged = enc.metadataWithIdBcs.slice();
	forged.set(other.blobIdBytes, 0);
	await rejects(h.decode(forged, enc.pairs, 10), 'blob-id-mismatch');
	await rejects(h.decode(enc.metadataWithIdBcs, enc.pairs, 100), 'invalid-metadata', /10 sliver pairs, want 100/);
	await rejects(h.decode(utf8('not metadata'), enc.pairs, 10), 'malformed-bcs');
	await rejects(h.decode(enc.metadataWithIdBcs, [utf8('xx')], 10), 'malformed-bcs');
	await rejects(h.decode(enc.metadataWithIdBcs, enc.pairs, 10, { blobId: 'short' }), 'invalid-blob-id');
	await rejects(h.decode(enc.metadataWithIdBcs, enc.pairs, 10, { consistency: 'lax' }), 'invalid-argument');
});

test('refusals are Errors with codes, and the module survives them', async () => {
	await rejects(h.blobId(utf8('x'), 3), 'invalid-shards', /invalid number of shards: 3/);
	await rejects(h.blobId(utf8('x'), 70000), 'invalid-shards');
	await rejects(h.blobId(utf8('x'), 10.5), 'invalid-shards');
	await rejects(h.blobId(utf8('x'), '10'), 'invalid-argument', /nShards must be a number/);
	await rejects(h.blobId('hello', 10), 'invalid-argument', /data must be a Uint8Array/);
	await rejects(h.blobId(), 'invalid-argument');
	await rejects(h.encode(utf8('x'), 10, { onProgress: 5 }), 'invalid-argument', /onProgress must be a function/);
	await rejects(h.decode(utf8('x'), 'slivers'), 'invalid-argument');
	// n=4 holds at most 393204 bytes.
	await rejects(h.blobId(new Uint8Array(393205), 4), 'too-large', /393205 bytes, at most 393204/);
	// A callback's own exception ends the call with that exception.
	const boom = new Error('stop here');
	await assert.rejects(h.encode(utf8('x'), 10, { onProgress: () => { throw boom; } }), (err) => err === boom);
	// Other array views and ArrayBuffers are accepted.
	const bytes = utf8('hello world');
	assert.equal(await h.blobId(bytes.buffer, 10), 'kfhAwEGrCYXNqnGv2jNMEVS3pX0yVV5M15csfujtUDg');
	assert.equal(await h.blobId(new DataView(bytes.buffer), 10), 'kfhAwEGrCYXNqnGv2jNMEVS3pX0yVV5M15csfujtUDg');
	assert.equal(await h.blobId(utf8('hello world'), 10), 'kfhAwEGrCYXNqnGv2jNMEVS3pX0yVV5M15csfujtUDg');
});

test('refuses what it cannot hold in memory, before allocating it', async () => {
	const lim = await h.limits(1 << 30, 1000);
	assert.equal(lim.symbolSize, 4820);
	assert.equal(lim.primarySourceSymbols, 334);
	assert.equal(lim.memory.budget, 3 * 2 ** 30);
	assert.ok(lim.memory.encode > 4 * 2 ** 30, `encode of 1 GiB at n=1000 should need over 4 GiB, estimated ${lim.memory.encode}`);
	// A 1 GiB buffer that is never touched costs Node next to nothing.
	await rejects(h.encode(new Uint8Array(2 ** 30), 1000), 'out-of-memory', /needs about 5\.\d GiB of memory, more than the 3\.0 GiB/);
	// A lower budget, as a page on a small device might set.
	assert.equal(await h.setMemoryBudget(64 * 2 ** 20), 64 * 2 ** 20);
	try {
		await rejects(h.encode(new Uint8Array(16 << 20), 1000), 'out-of-memory', /more than the 64\.0 MiB/);
		await rejects(h.blobId(new Uint8Array(64 << 20), 1000), 'out-of-memory');
		const small = await h.encode(utf8('fits'), 10);
		await rejects(h.setMemoryBudget(2 ** 33), 'invalid-argument');
		assert.equal(small.pairs.length, 10);
	} finally {
		await h.setMemoryBudget(0);
	}
	assert.equal((await h.limits(0, 10)).memory.budget, 3 * 2 ** 30);
});

test('progress', async () => {
	const events = [];
	const enc = await h.encode(input(4096, 1), 100, { onProgress: (p) => events.push(p) });
	const phases = [...new Set(events.map((e) => e.phase))];
	assert.deepEqual(phases, ['read', 'encode', 'write']);
	assert.ok(events.every((e) => e.op === 'encode' && e.done <= e.total));
	assert.deepEqual(events.at(-1), { op: 'encode', phase: 'write', done: 100, total: 100 });
	const dec = [];
	await h.decode(enc.metadataWithIdBcs, enc.pairs, 100, { onProgress: (p) => dec.push(p.phase) });
	assert.deepEqual([...new Set(dec)], ['read', 'decode']);
});
