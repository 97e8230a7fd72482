// Shared helpers for the Walrus reference harness (ref.mjs, gen-goldens.mjs, bench.mjs).
//
// Everything here wraps @mysten/walrus-wasm, which is Walrus's own Rust codec (walrus-core) built to
// Wasm, so its output is the ground truth the Go codec in ../.. must match byte for byte. The few
// things we compute ourselves (symbol size, metadata BCS, Merkle root) are cross-checked against the
// reference's blob ID on every call, so a mistake here cannot slip into the golden vectors.
import { BlobEncoder } from '@mysten/walrus-wasm';
import { blake2b } from '@noble/hashes/blake2.js';
import { createHash } from 'node:crypto';

export const MAX_SYMBOL_SIZE = 65534; // RS2: symbols are GF(2^16) elements, size even, <= 65534
const RS2 = 1; // EncodingType::RS2, BCS enum variant 1 (0 is the retired RaptorQ)

// f, k1 (primary source symbols, "rows") and k2 (secondary source symbols, "columns") for n shards.
export function params(n) {
	const f = Math.floor((n - 1) / 3);
	return { f, k1: n - 2 * f, k2: n - f };
}

// Symbol size Walrus picks for a blob of len bytes, or null when the blob is too large for n.
// The package does not report it from compute_metadata; encode's slivers carry it, and we check
// the two agree (see checkEncoding).
export function symbolSize(n, len) {
	const { k1, k2 } = params(n);
	let s = Math.ceil(Math.max(len, 1) / (k1 * k2));
	s += s % 2;
	return s > MAX_SYMBOL_SIZE ? null : s;
}

// The deterministic test input the Go tests reimplement: xorshift32 seeded from `seed`.
export function input(size, seed) {
	let x = (Math.imul(seed, 2654435761) + 1) >>> 0; // imul: seed * 2654435761 mod 2^32, exactly
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

export const hex = (b) => Buffer.from(b).toString('hex');
export const b64 = (b) => Buffer.from(b).toString('base64');
export const b64url = (b) => Buffer.from(b).toString('base64url'); // no padding: 43 chars for 32 bytes
export const sha256hex = (...parts) => {
	const h = createHash('sha256');
	for (const p of parts) h.update(p);
	return h.digest('hex');
};
const h256 = (...parts) => {
	const h = blake2b.create({ dkLen: 32 });
	for (const p of parts) h.update(Uint8Array.from(p)); // noble insists on exactly Uint8Array
	return h.digest();
};

function uleb128(v) {
	const out = [];
	do {
		out.push((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		v = Math.floor(v / 128);
	} while (v > 0);
	return out;
}

// BCS SliverData = ULEB128(len) || symbol bytes || symbol_size u16 LE || index u16 LE.
// encode() wants buffers of exactly this size, so we must know it before calling.
const sliverBcsLen = (dataLen) => uleb128(dataLen).length + dataLen + 4;

export function parseSliver(buf) {
	let len = 0, shift = 0, p = 0;
	for (;;) {
		const b = buf[p++];
		len += (b & 0x7f) * 2 ** shift;
		shift += 7;
		if (b < 0x80) break;
	}
	const dv = new DataView(buf.buffer, buf.byteOffset + p + len, 4);
	return {
		symbols: buf.subarray(p, p + len),
		symbolSize: dv.getUint16(0, true),
		index: dv.getUint16(2, true),
	};
}

// A MerkleNode as serde_wasm_bindgen hands it over: the string 'Empty' or { Digest: number[32] }.
const nodeBytes = (node) => (node === 'Empty' ? new Uint8Array(32) : Uint8Array.from(node.Digest));
export const nodeHex = (node) => (node === 'Empty' ? '' : hex(node.Digest));
const nodeBcs = (node) => (node === 'Empty' ? [0] : [1, ...node.Digest]);

// BCS BlobMetadata (without ID): the package hands metadata over as a JS object, not as bytes, so we
// serialise it per walrus-core metadata.rs: enum BlobMetadata { V1(BlobMetadataV1) } -> variant 0;
// BlobMetadataV1 { encoding_type: EncodingType, unencoded_length: u64, hashes: Vec<SliverPairMetadata> };
// SliverPairMetadata { primary_hash: Node, secondary_hash: Node }; Node { Empty = 0, Digest([u8;32]) = 1 }.
export function metadataBcs(v1) {
	if (v1.encoding_type !== 'RS2') throw new Error(`unexpected encoding type ${v1.encoding_type}`);
	const len = Buffer.alloc(8);
	len.writeBigUInt64LE(BigInt(v1.unencoded_length));
	const pairs = v1.hashes.flatMap((h) => [...nodeBcs(h.primary_hash), ...nodeBcs(h.secondary_hash)]);
	return Uint8Array.from([0, RS2, ...len, ...uleb128(v1.hashes.length), ...pairs]);
}

// Merkle root as in walrus-core merkle.rs: leaf = H(0 || data), inner = H(1 || l || r), an odd level
// gets an Empty (32 zero bytes) right sibling, no leaves -> Empty.
function merkleRoot(leaves) {
	let level = leaves.map((d) => h256([0], d));
	if (level.length === 0) return new Uint8Array(32);
	while (level.length > 1) {
		if (level.length % 2) level.push(new Uint8Array(32));
		const next = [];
		for (let i = 0; i < level.length; i += 2) next.push(h256([1], level[i], level[i + 1]));
		level = next;
	}
	return level[0];
}

// Blob ID = H(encoding_type u8 || unencoded_length u64 LE || root over pair leaves (primary || secondary)).
// Recomputing it from our metadataBcs proves both our BCS layout and our reading of the hashes.
function blobIdFromMetadataBcs(bcs, n) {
	const leaves = [];
	let p = 10 + uleb128(n).length;
	for (let i = 0; i < n; i++) {
		const pair = [];
		for (let j = 0; j < 2; j++) {
			pair.push(bcs[p] === 1 ? bcs.subarray(p + 1, p + 33) : new Uint8Array(32));
			p += bcs[p] === 1 ? 33 : 1;
		}
		leaves.push(Buffer.concat(pair));
	}
	if (p !== bcs.length) throw new Error('metadata BCS has trailing bytes');
	const root = merkleRoot(leaves);
	return { root, blobId: h256(bcs.subarray(1, 10), root) };
}

// Wasm memory is not garbage collected, so free each encoder. After a Rust panic the object stays
// marked as borrowed and free() throws, which would hide the real error: ignore that.
function release(enc) {
	try {
		enc.free();
	} catch {}
}

// compute_metadata: the blob-ID-only path (what `haulout blob-id` does). It returns
// (blob_id number[32], root_hash Node, unencoded_length number, encoding_type 'RS2') and keeps no
// slivers, but it still expands the whole matrix, so it is about as slow as encode.
export function computeMetadata(n, data) {
	const enc = new BlobEncoder(n);
	try {
		const [blobId, root, unencodedLength, encodingType] = enc.compute_metadata(data);
		return { blobId: b64url(Uint8Array.from(blobId)), rootHash: nodeHex(root), unencodedLength, encodingType };
	} finally {
		release(enc);
	}
}

// Full encode. The package writes slivers into caller-allocated buffers: primary[i] is the primary
// sliver of pair i (index i); secondary[i] is the secondary sliver of pair i, whose SliverData index
// is n-1-i. Returns metadata as plain fields plus the raw BCS sliver buffers.
export function encode(n, data) {
	const s = symbolSize(n, data.length);
	const { k1, k2 } = params(n);
	// Too large: still call encode (with dummy buffers) so we record the reference's own error.
	const pLen = s ? sliverBcsLen(k2 * s) : 0, sLen = s ? sliverBcsLen(k1 * s) : 0;
	const primary = Array.from({ length: n }, () => new Uint8Array(pLen));
	const secondary = Array.from({ length: n }, () => new Uint8Array(sLen));
	const enc = new BlobEncoder(n);
	let md, root;
	try {
		[md, root] = enc.encode(data, primary, secondary);
	} finally {
		release(enc);
	}
	const v1 = md.metadata.V1;
	return {
		nShards: n,
		unencodedLength: v1.unencoded_length,
		blobId: b64url(Uint8Array.from(md.blob_id)),
		symbolSize: parseSliver(primary[0]).symbolSize,
		rootHash: nodeHex(root),
		metadataBcs: metadataBcs(v1),
		primaryHashes: v1.hashes.map((h) => nodeHex(h.primary_hash)),
		secondaryHashes: v1.hashes.map((h) => nodeHex(h.secondary_hash)),
		primary,
		secondary,
	};
}

// Throws unless an encode() result is self-consistent and matches our reading of the spec:
// blob ID recomputed from our metadata BCS, symbol size formula, sliver indices, and the systematic
// layout (primary sliver r < k1 is row r of the padded blob; secondary sliver c < k2 is column c).
export function checkEncoding(e, data) {
	const n = e.nShards;
	const { k1, k2 } = params(n);
	const s = symbolSize(n, data.length);
	const fail = (msg) => { throw new Error(`n=${n} len=${data.length}: ${msg}`); };
	if (e.blobId.length !== 43) fail(`blob ID ${e.blobId} is not 43 chars`);
	const { root, blobId } = blobIdFromMetadataBcs(e.metadataBcs, n);
	if (hex(root) !== e.rootHash) fail('root recomputed from pair hashes differs from the reference');
	if (b64url(blobId) !== e.blobId) fail('blob ID recomputed from metadata BCS differs from the reference');
	if (e.symbolSize !== s) fail(`symbol size ${e.symbolSize}, formula says ${s}`);
	const padded = new Uint8Array(k1 * k2 * s);
	padded.set(data);
	for (let i = 0; i < n; i++) {
		const p = parseSliver(e.primary[i]), q = parseSliver(e.secondary[i]);
		if (p.index !== i || q.index !== n - 1 - i) fail(`pair ${i}: indices ${p.index}/${q.index}`);
		if (p.symbols.length !== k2 * s || q.symbols.length !== k1 * s) fail(`pair ${i}: sliver lengths`);
		if (p.symbolSize !== s || q.symbolSize !== s) fail(`pair ${i}: symbol size in sliver`);
		if (i < k1 && !Buffer.from(p.symbols).equals(padded.subarray(i * k2 * s, (i + 1) * k2 * s)))
			fail(`primary sliver ${i} is not row ${i} of the blob`);
		const c = n - 1 - i;
		if (c < k2)
			for (let r = 0; r < k1; r++) {
				const cell = padded.subarray((r * k2 + c) * s, (r * k2 + c + 1) * s);
				if (!Buffer.from(q.symbols.subarray(r * s, (r + 1) * s)).equals(cell))
					fail(`secondary sliver ${c} symbol ${r} is not cell (${r},${c})`);
			}
	}
}

// Decode from BCS primary slivers (the package's decode only takes primary ones; any k1 will do).
export function decode(n, blobIdB64url, size, primarySlivers) {
	const out = new Uint8Array(size);
	const enc = new BlobEncoder(n);
	try {
		// decode deserialises blob_id with serde (a [u8;32]) but does not use it to verify.
		enc.decode(Array.from(Buffer.from(blobIdB64url, 'base64url')), BigInt(size), primarySlivers, out);
	} finally {
		release(enc);
	}
	return out;
}
