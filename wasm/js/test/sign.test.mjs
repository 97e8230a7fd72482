// Storage confirmations, signature checks and aggregation in js/wasm: the
// same bytes as the native chain and bls packages (vectors from js_test.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadHaulout, vectors, hex } from './load.mjs';

const h = await loadHaulout();
const v = vectors().signing;
const b64 = (s) => new Uint8Array(Buffer.from(s, 'base64'));

async function rejects(p, code, match) {
	await assert.rejects(p, (err) => {
		assert.equal(err.code, code, err.message);
		if (match) assert.match(err.message, match);
		return true;
	});
}

test('confirmation messages', async () => {
	assert.equal(hex(await h.confirmationMessage(v.epoch, v.blobId)), v.permanentHex);
	assert.equal(hex(await h.confirmationMessage(v.epoch, v.blobId, null)), v.permanentHex);
	assert.equal(hex(await h.confirmationMessage(v.epoch, v.blobId, v.objectId)), v.deletableHex);
	await rejects(h.confirmationMessage(-1, v.blobId), 'invalid-argument', /u32/);
	await rejects(h.confirmationMessage(2 ** 32, v.blobId), 'invalid-argument', /u32/);
	await rejects(h.confirmationMessage(1, 'nope'), 'invalid-argument');
	await rejects(h.confirmationMessage(1, v.blobId, '0xzz'), 'invalid-argument');
	await rejects(h.confirmationMessage(1), 'invalid-argument');
});

test('signature checks', async () => {
	const msg = Buffer.from(v.deletableHex, 'hex');
	for (let i = 0; i < v.signatures.length; i++) {
		assert.equal(await h.verifySignature(v.publicKeys[i], msg, v.signatures[i]), true, `node ${i} (base64)`);
		assert.equal(await h.verifySignature(b64(v.publicKeys[i]), new Uint8Array(msg), b64(v.signatures[i])), true, `node ${i} (bytes)`);
	}
	// Another node's key, another message: false, not an error.
	assert.equal(await h.verifySignature(v.publicKeys[v.wrongKeyForSignature], msg, v.signatures[0]), false);
	assert.equal(await h.verifySignature(v.publicKeys[0], Buffer.from(v.permanentHex, 'hex'), v.signatures[0]), false);
	// Malformed keys and signatures are errors.
	await rejects(h.verifySignature('AAAA', msg, v.signatures[0]), 'invalid-argument');
	await rejects(h.verifySignature(v.publicKeys[0], msg, 'not base64!'), 'invalid-argument', /base64/);
	await rejects(h.verifySignature(v.publicKeys[0], msg, new Uint8Array(95)), 'invalid-argument');
	await rejects(h.verifySignature(v.publicKeys[0], msg), 'invalid-argument');
});

test('aggregation', async () => {
	assert.equal(hex(await h.aggregateSignatures(v.signatures)), v.aggregateHex);
	assert.equal(hex(await h.aggregateSignatures(v.signatures.slice(0, 3).map(b64))), v.aggregateOfFirstHex);
	await rejects(h.aggregateSignatures([]), 'invalid-argument', /no signatures/);
	await rejects(h.aggregateSignatures('x'), 'invalid-argument');
	await rejects(h.aggregateSignatures([v.signatures[0], 'AAAA']), 'invalid-argument', /signatures\[1\]/);
});
