#!/usr/bin/env node
// Writes ../quilt/vectors.json: what Walrus's TypeScript SDK (@mysten/walrus encodeQuilt, with the
// SDK's own Wasm encoder for the blob ID) makes of a fixed set of quilts, so that the Go codec is
// tested byte for byte without Node. Deterministic: rerunning it gives the same file.
//
//   node gen-goldens.mjs [--out PATH]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { b64, input, pkgVersion, runQuilt, sha256hex } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { out: { type: 'string', default: join(here, '../quilt/vectors.json') } } });

const KiB = 1024;
const MiB = 1024 * KiB;
// Quilts up to this size are stored whole; larger ones by length and SHA-256 (and blob ID).
const INLINE_MAX = 64 * KiB;

const text = (identifier, s, tags) => ({ identifier, data: b64(Buffer.from(s, 'utf8')), ...(tags ? { tags } : {}) });
const rnd = (identifier, size, seed, tags) => ({ identifier, size, seed, ...(tags ? { tags } : {}) });
const repeat = (ch, count, rest = {}) => ({ identifierRepeat: [ch, count], data: b64(Buffer.from('x')), ...rest });

// A deterministic shuffle, so that inputs are not already in quilt order.
function shuffle(items, seed) {
	const r = input(items.length * 4, seed);
	const out = [...items];
	for (let i = out.length - 1; i > 0; i--) {
		const j = (r[4 * i] | (r[4 * i + 1] << 8) | (r[4 * i + 2] << 16)) % (i + 1);
		[out[i], out[j]] = [out[j], out[i]];
	}
	return out;
}

// Tag keys of BCS lengths on both sides of the one-byte ULEB128 limit: BCS orders map entries by
// their serialized keys, so a 129-byte key sorts before a 128-byte one and a 256-byte one before both.
const edgeKeys = Object.fromEntries([1, 2, 127, 128, 129, 200, 256].map((n, i) => ['k'.repeat(n), `v${i}`]));

function cases() {
	const out = [];
	const add = (name, nShards, items, extra = {}) => out.push({ name, nShards, items, ...extra });

	add('n4/one-item', 4, [text('hello.txt', 'hello world')]);
	add('n4/no-items', 4, []);
	add('n4/empty-file', 4, [text('empty', '')]);
	add('n4/max-patches', 4, [text('b', 'second'), text('a', 'first', { type: 'x' })]);
	add('n4/too-many-patches', 4, [text('a', '1'), text('b', '2'), text('c', '3')], { expect: 'too-many-patches' });
	add('n4/duplicate', 4, [text('a', '1'), text('b', '2'), text('a', '3')], { expect: 'duplicate' });
	// n=4: k1=2, k2=3, so at symbol size 65534 a column holds 131068 bytes and one patch may take two.
	add('n4/largest-file', 4, [rnd('big', 2 * 131068 - 6 - 2 - 4, 1)]);
	add('n4/largest-file+1', 4, [rnd('big', 2 * 131068 - 6 - 2 - 4 + 1, 1)], { expect: 'too-large' });
	add('n4/too-large', 4, [rnd('a', 200000, 2), rnd('b', 200000, 3)], { expect: 'too-large' });
	add('n4/longest-identifier', 4, [repeat('a', 65531)]);
	// Walrus's Rust code refuses these identifiers; the TypeScript SDK does not check them.
	add('n4/identifier-too-long', 4, [repeat('a', 65532)], { walrusRefuses: 'identifier' });
	add('n10/identifier-trailing-space', 10, [text('a ', '1')], { walrusRefuses: 'identifier' });
	add('n10/identifier-control', 10, [text('a\u0007b', '1')], { walrusRefuses: 'identifier' });

	add('n10/many-small', 10, shuffle([0, 1, 2, 3, 17, 50].map((s, i) => rnd(`file-${i}.bin`, s, 10 + i)), 1));
	add('n10/tags', 10, [
		text('index.html', '<html></html>', { 'content-type': 'text/html', 'content-encoding': 'identity' }),
		text('edge-keys', 'tags', edgeKeys),
		text('one-tag', 'x', { a: '' }),
		text('empty-tags', 'y', {}),
		text('unicode-tags', 'z', { 'clé': 'valeur ✓', '名前': '値', '😀': '🐋' }),
	]);
	add('n10/unicode', 10, [
		text('é.txt', 'e acute'),
		text('e.txt', 'plain e'),
		text('日本語/ファイル.html', 'japanese'),
		text('Ünïcödé', 'umlauts'),
		text('emoji-🐋.png', 'whale'),
		text('Z', 'capital'),
	]);
	// Walrus's Rust code sorts identifiers by bytes (UTF-8), the TypeScript SDK by UTF-16 code units:
	// U+FF21 sorts before U+1F600 in UTF-8 and after it in UTF-16, so the two orders differ here.
	add('n10/utf16-order', 10, [text('\uFF21.txt', 'fullwidth A'), text('\u{1F600}.txt', 'grinning'), text('b', 'b')], { utf16Order: true });
	// Long identifiers and tags make the index span several columns.
	add('n10/big-index', 10, [
		{ ...repeat('i', 3000), tags: { note: 'n'.repeat(2000) } },
		text('small', 'tiny'),
	], { minIndexColumns: 2 });

	add('n100/many-small', 100, shuffle(Array.from({ length: 66 }, (_, i) => rnd(`dir/file-${String(i).padStart(2, '0')}.dat`, i * 7, 100 + i, i % 5 === 0 ? { n: String(i) } : undefined)), 2));
	add('n100/sizes', 100, shuffle([0, 1, 2, 100, 1000, 10 * KiB, 100000, MiB, 3 * MiB].map((s, i) => rnd(`size-${s}`, s, 200 + i)), 3));
	add('n100/one-10KiB', 100, [rnd('patch.bin', 10 * KiB, 7)]);

	add('n1000/one-item', 1000, [text('hello.txt', 'hello world')]);
	add('n1000/max-patches', 1000, shuffle(Array.from({ length: 666 }, (_, i) => rnd(`p${i}`, i % 97, 1000 + i, i % 10 === 0 ? { i: String(i) } : undefined)), 4));
	add('n1000/too-many-patches', 1000, Array.from({ length: 667 }, (_, i) => text(`p${i}`, '')), { expect: 'too-many-patches' });
	add('n1000/sizes', 1000, shuffle([
		rnd('small.txt', 10 * KiB, 11, { 'content-type': 'text/plain' }),
		rnd('one-mib.bin', MiB, 12),
		rnd('four-mib.bin', 4 * MiB, 13),
		...Array.from({ length: 50 }, (_, i) => rnd(`tiny/${i}`, i, 14 + i)),
	], 5));
	return out;
}

function runCase(c) {
	const spec = {
		nShards: c.nShards,
		items: c.items.map(({ identifierRepeat, ...it }) => (identifierRepeat ? { ...it, identifier: identifierRepeat[0].repeat(identifierRepeat[1]) } : it)),
	};
	const res = runQuilt(spec);
	const rec = { name: c.name, nShards: c.nShards, items: c.items };
	for (const k of ['expect', 'walrusRefuses', 'utf16Order']) if (c[k] !== undefined) rec[k] = c[k];
	if (res.error) {
		if (!c.expect) throw new Error(`${c.name}: encodeQuilt failed: ${res.error}`);
		rec.error = res.error;
		return rec;
	}
	if (c.expect) throw new Error(`${c.name}: expected ${c.expect}, encodeQuilt succeeded`);
	if (c.minIndexColumns && res.patches[0].startIndex < c.minIndexColumns)
		throw new Error(`${c.name}: index spans ${res.patches[0].startIndex} columns, wanted at least ${c.minIndexColumns}`);
	rec.quiltLength = res.quiltLength;
	rec.quiltSha256 = res.quiltSha256;
	if (res.quiltLength <= INLINE_MAX) rec.quilt = res.quilt;
	rec.blobId = res.blobId;
	rec.patches = res.patches.map(({ identifier, ...p }) =>
		identifier.length > KiB ? { identifierSha256: sha256hex(Buffer.from(identifier, 'utf8')), ...p } : { identifier, ...p });
	return rec;
}

const out = {
	about: "Golden quilts from Walrus's TypeScript SDK; formats in quilt-reference/README.md. Generated by quilt-reference/gen-goldens.mjs; do not edit.",
	reference: { package: '@mysten/walrus', version: pkgVersion('@mysten/walrus'), wasm: pkgVersion('@mysten/walrus-wasm') },
	cases: [],
};
for (const c of cases()) {
	const t = performance.now();
	const rec = runCase(c);
	out.cases.push(rec);
	console.error(`${c.name.padEnd(30)} ${rec.error ? 'error: ' + rec.error : `${rec.quiltLength} bytes ${rec.blobId}`} ${Math.round(performance.now() - t)} ms`);
}
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify(out, null, 1) + '\n');
console.error(`wrote ${out.cases.length} cases to ${values.out}`);
