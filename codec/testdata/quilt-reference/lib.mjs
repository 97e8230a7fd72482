// Shared helpers of the quilt reference harness (quilt.mjs, gen-goldens.mjs).
//
// Everything that decides bytes comes from Walrus's TypeScript SDK, npm @mysten/walrus: encodeQuilt
// lays the quilt out, the SDK's own Wasm bindings (@mysten/walrus-wasm, Walrus's Rust encoder) give
// the quilt's blob ID, and the SDK's encodeQuiltPatchId/parseQuiltPatchId make and check patch IDs,
// exactly as WalrusClient.writeQuilt does. encodeQuilt is public; the other two live in modules the
// package's "exports" map does not list, so they are imported by file path from the pinned version.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { encodeQuilt } from '@mysten/walrus';
import { getWasmBindings } from './node_modules/@mysten/walrus/dist/wasm.mjs';
import { encodeQuiltPatchId, parseQuiltPatchId } from './node_modules/@mysten/walrus/dist/utils/quilts.mjs';

const wasm = await getWasmBindings(); // Node: the Wasm loads synchronously on import; init is a no-op

// The deterministic test input the Go tests reimplement (goldenInput): xorshift32 seeded from `seed`,
// the same generator as ../walrus-reference/lib.mjs.
export function input(size, seed) {
	let x = (Math.imul(seed, 2654435761) + 1) >>> 0;
	if (x === 0) x = 1;
	const out = new Uint8Array(size);
	for (let i = 0; i < size; i++) {
		x = (x ^ (x << 13)) >>> 0;
		x = (x ^ (x >>> 17)) >>> 0;
		x = (x ^ (x << 5)) >>> 0;
		out[i] = x & 0xff;
	}
	return out;
}

export const sha256hex = (b) => createHash('sha256').update(b).digest('hex');
export const b64 = (b) => Buffer.from(b).toString('base64');

// An item's bytes: `data` (standard base64), or `size` bytes of input(size, seed).
export function itemData(item) {
	if (item.data !== undefined) return new Uint8Array(Buffer.from(item.data, 'base64'));
	return input(item.size, item.seed);
}

// runQuilt lays out spec = {nShards, items: [{identifier, tags?, data? | size+seed}]} with the SDK and
// returns {nShards, quiltLength, quiltSha256, quilt, blobId, patches: [{identifier, tags, startIndex,
// endIndex, patchId}]}, or {nShards, error} when encodeQuilt throws.
export function runQuilt(spec) {
	const blobs = spec.items.map((it) => ({
		identifier: it.identifier,
		contents: itemData(it),
		...(it.tags !== undefined ? { tags: it.tags } : {}),
	}));
	let encoded;
	try {
		encoded = encodeQuilt({ blobs, numShards: spec.nShards });
	} catch (err) {
		return { nShards: spec.nShards, error: String(err?.message ?? err) };
	}
	const { quilt, index } = encoded;
	const { blobId } = wasm.computeMetadata(spec.nShards, quilt);
	const patches = index.patches.map((p) => {
		const patchId = encodeQuiltPatchId({
			quiltId: blobId,
			patchId: { version: 1, startIndex: p.startIndex, endIndex: p.endIndex },
		});
		// The SDK's parser must give the same fields back, or the ID is not what readers see.
		const back = parseQuiltPatchId(patchId);
		if (back.quiltId !== blobId || back.patchId.version !== 1 || back.patchId.startIndex !== p.startIndex || back.patchId.endIndex !== p.endIndex)
			throw new Error(`patch ID ${patchId} does not parse back`);
		return { identifier: p.identifier, tags: p.tags, startIndex: p.startIndex, endIndex: p.endIndex, patchId };
	});
	return {
		nShards: spec.nShards,
		quiltLength: quilt.length,
		quiltSha256: sha256hex(quilt),
		quilt: b64(quilt),
		blobId,
		patches,
	};
}

// The installed version of a package, for the goldens' provenance.
export function pkgVersion(name) {
	return JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
}
