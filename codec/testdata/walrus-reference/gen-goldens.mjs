#!/usr/bin/env node
// Writes ../golden/vectors.json: what Walrus's own codec (@mysten/walrus-wasm) produces for a fixed
// set of inputs, so the Go codec can be tested byte for byte without Node. Deterministic: rerunning
// it gives the same file (no timestamps; inputs from the xorshift32 PRNG in lib.mjs / README.md).
//
//   node gen-goldens.mjs [--out PATH]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { b64, checkEncoding, computeMetadata, encode, input, params, sha256hex, symbolSize } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { out: { type: 'string', default: join(here, '../golden/vectors.json') } } });

const MiB = 1 << 20;
const SHARDS = [4, 7, 10, 100, 1000];
// Blob IDs published with @mysten/walrus-wasm (see shared spec): if the harness cannot reproduce
// these, nothing else it writes can be trusted.
const KNOWN = [
	{ name: 'n1000/hello-world', n: 1000, text: 'hello world', blobId: 'vldooumlbSRuiUvv54k0MowsF5afG7SVC0b9oXufbzQ' },
	{ name: 'n10/hello-world', n: 10, text: 'hello world', blobId: 'kfhAwEGrCYXNqnGv2jNMEVS3pX0yVV5M15csfujtUDg' },
	{ name: 'n1000/empty', n: 1000, text: '', blobId: '3GPQL3HZNnFhN_F7l5Aa-X1VOtAKwIsg9zuWk8R81v4' },
];

// The case list: small sizes, both sides of each symbol-size step (k1*k2*s is the largest blob with
// symbol size s, so +1 moves to the next even size), 1 and 16 MiB, and for small n the largest blob
// (symbol size 65534) and one byte more, which Walrus must refuse.
function cases() {
	const out = [];
	for (const n of SHARDS) {
		const { k1, k2 } = params(n);
		const sizes = new Map(); // size -> label; a Map keeps the first label if two sizes coincide
		const add = (size, label) => size <= 16 * MiB && !sizes.has(size) && sizes.set(size, label);
		for (const s of [0, 1, 2, 3, 17, 1000]) add(s, `size${s}`);
		for (const s of [2, 4, 64]) {
			add(k1 * k2 * s - 1, `k1k2x${s}-1`);
			add(k1 * k2 * s, `k1k2x${s}`);
			add(k1 * k2 * s + 1, `k1k2x${s}+1`);
		}
		add(MiB, '1MiB');
		add(16 * MiB, '16MiB');
		if (n === 4 || n === 7) {
			add(k1 * k2 * 65534, 'max');
			add(k1 * k2 * 65534 + 1, 'max+1');
		}
		for (const [size, label] of [...sizes].sort((a, b) => a[0] - b[0]))
			out.push({ name: `n${n}/${label}`, n, size, seed: (size % 1000) + n });
	}
	for (const k of KNOWN) out.push({ ...k, size: k.text.length });
	return out;
}

function runCase(c) {
	const data = c.text !== undefined ? Buffer.from(c.text, 'ascii') : input(c.size, c.seed);
	const rec = { name: c.name, nShards: c.n, size: c.size };
	if (c.text !== undefined) rec.inputAscii = c.text;
	else rec.seed = c.seed;
	rec.inputSha256 = sha256hex(data); // lets the Go side check its PRNG before blaming the codec

	let e;
	try {
		e = encode(c.n, data);
	} catch (err) {
		if (symbolSize(c.n, c.size) !== null) throw err; // only "too large" is an expected failure
		// The cheap path must refuse too, with the same message.
		let cmErr = null;
		try { computeMetadata(c.n, data); } catch (err2) { cmErr = err2.message; }
		if (cmErr !== err.message) throw new Error(`${c.name}: compute_metadata says ${cmErr}, encode says ${err.message}`);
		return { ...rec, error: err.message };
	}
	if (symbolSize(c.n, c.size) === null) throw new Error(`${c.name}: expected "too large", got a blob ID`);
	checkEncoding(e, data);
	const cm = computeMetadata(c.n, data);
	if (cm.blobId !== e.blobId || cm.rootHash !== e.rootHash || cm.unencodedLength !== c.size)
		throw new Error(`${c.name}: compute_metadata and encode disagree`);
	if (c.blobId && c.blobId !== e.blobId) throw new Error(`${c.name}: blob ID ${e.blobId}, known answer ${c.blobId}`);

	Object.assign(rec, {
		blobId: e.blobId,
		unencodedLength: e.unencodedLength,
		symbolSize: e.symbolSize,
		rootHash: e.rootHash,
	});
	if (c.n <= 100) rec.metadataBcs = b64(e.metadataBcs);
	// hashesSha256: over the 32-byte hashes, all primary then all secondary (an Empty hash would
	// count as 32 zero bytes; none occurs, since every hash covers n >= 4 leaves).
	const raw = (h) => Buffer.from(h || '00'.repeat(32), 'hex');
	rec.hashesSha256 = sha256hex(...e.primaryHashes.map(raw), ...e.secondaryHashes.map(raw));
	if (c.n <= 100) {
		rec.primaryHashes = e.primaryHashes;
		rec.secondaryHashes = e.secondaryHashes;
	} else {
		rec.primaryHashesHead = e.primaryHashes.slice(0, 8);
		rec.primaryHashesTail = e.primaryHashes.slice(-8);
		rec.secondaryHashesHead = e.secondaryHashes.slice(0, 8);
		rec.secondaryHashesTail = e.secondaryHashes.slice(-8);
	}
	if (c.n <= 100 && c.size <= 100000)
		rec.slivers = [...new Set([0, 1, c.n - 1])].map((i) => ({ pair: i, primary: b64(e.primary[i]), secondary: b64(e.secondary[i]) }));
	return rec;
}

const pkg = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'))).version;
const out = {
	about: 'Golden vectors from Walrus\'s own RS2 codec; formats and PRNG in walrus-reference/README.md. Generated by walrus-reference/gen-goldens.mjs; do not edit.',
	reference: { package: '@mysten/walrus-wasm', version: pkg('@mysten/walrus-wasm') },
	cases: [],
};
for (const c of cases()) {
	const t = performance.now();
	const rec = runCase(c);
	out.cases.push(rec);
	console.error(`${c.name.padEnd(22)} ${String(c.size).padStart(9)} ${rec.error ? 'error: ' + rec.error : rec.blobId} ${Math.round(performance.now() - t)} ms`);
}
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify(out, null, 1) + '\n');
console.error(`wrote ${out.cases.length} cases to ${values.out}`);
