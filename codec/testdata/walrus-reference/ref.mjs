#!/usr/bin/env node
// Reference CLI over Walrus's own codec (@mysten/walrus-wasm), for comparing haulout's output by hand
// or from a test. See README.md for the output format.
//
//   node ref.mjs encode --n-shards N --file PATH [--slivers none|all|I,J,K]
//   node ref.mjs decode --n-shards N --file PATH
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { b64, checkEncoding, decode, encode, params } from './lib.mjs';

const { positionals, values } = parseArgs({
	allowPositionals: true,
	options: {
		'n-shards': { type: 'string' },
		file: { type: 'string' },
		slivers: { type: 'string', default: 'none' },
	},
});
const [cmd] = positionals;
const n = Number(values['n-shards']);
if (!['encode', 'decode'].includes(cmd) || !Number.isInteger(n) || n < 1 || n > 65535 || !values.file) {
	console.error('usage: node ref.mjs encode|decode --n-shards N --file PATH [--slivers none|all|I,J,K]');
	process.exit(2);
}
const data = readFileSync(values.file);

try {
	const e = encode(n, data);
	checkEncoding(e, data); // refuse to print anything we could not cross-check

	if (cmd === 'encode') {
		const pairs = values.slivers === 'none' ? [] : values.slivers === 'all'
			? [...Array(n).keys()] : values.slivers.split(',').map(Number);
		for (const i of pairs) if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new Error(`no sliver pair ${i}`);
		const { primary, secondary, metadataBcs, ...rest } = e;
		console.log(JSON.stringify({
			...rest,
			metadataBcs: b64(metadataBcs),
			// pair i = primary sliver i + secondary sliver n-1-i (each BCS SliverData carries its index)
			slivers: pairs.map((i) => ({ pair: i, primary: b64(primary[i]), secondary: b64(secondary[i]) })),
		}));
	} else {
		// Decode from the LAST k1 primary slivers: for n >= 4 that includes non-systematic ones, so the
		// Reed-Solomon decoder really runs rather than just concatenating source rows.
		const { k1 } = params(n);
		const used = [...Array(k1).keys()].map((j) => n - k1 + j);
		const out = decode(n, e.blobId, data.length, used.map((i) => e.primary[i]));
		const ok = Buffer.from(out).equals(data);
		console.log(JSON.stringify({ nShards: n, unencodedLength: data.length, blobId: e.blobId, primarySliversUsed: used, roundTrip: ok }));
		if (!ok) process.exit(1);
	}
} catch (err) {
	console.log(JSON.stringify({ nShards: n, unencodedLength: data.length, error: String(err?.message ?? err) }));
	process.exit(1);
}
