#!/usr/bin/env node
// Lays out a quilt with Walrus's TypeScript SDK (@mysten/walrus encodeQuilt) and prints it as JSON.
// See README.md for the formats.
//
//   node quilt.mjs [--file SPEC.json]      (the spec is read from stdin without --file)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runQuilt } from './lib.mjs';

const { values } = parseArgs({ options: { file: { type: 'string' } } });
const spec = JSON.parse(readFileSync(values.file ?? 0, 'utf8'));
if (!Number.isInteger(spec.nShards) || spec.nShards < 4 || spec.nShards > 65535 || !Array.isArray(spec.items)) {
	console.error('usage: node quilt.mjs [--file SPEC.json]; SPEC = {"nShards": N, "items": [{"identifier", "tags"?, "data"? (base64) | "size"+"seed"}]}');
	process.exit(2);
}
const out = runQuilt(spec);
console.log(JSON.stringify(out));
if (out.error) process.exit(1);
