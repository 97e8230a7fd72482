// haulout.js: haulout's RedStuff codec for web pages, run in a Web Worker.
//
//   import { Haulout } from './haulout.js';
//   const codec = await Haulout.start();       // worker.js, haulout.wasm and wasm_exec.js next to this file
//   const id = await codec.blobId(bytes, 1000, { onProgress: (p) => console.log(p.phase, p.done, p.total) });
//   const { metadataBcs, pairs } = await codec.encode(bytes, 1000);
//   const back = await codec.decode(metadataBcs, pairs.slice(0, 334), 1000);
//   codec.terminate();
//
// Every method returns a Promise; failures reject with an Error whose code
// says why (README.md lists them). Calls run one after another in the
// worker, so the page stays responsive while the codec works.

// Where each method takes its options object.
const OPTIONS_AT = { blobId: 2, computeMetadata: 2, encode: 2, decode: 3 };

function toError(data) {
	const err = new Error(data.message);
	err.name = data.name || 'HauloutError';
	err.code = data.code || 'internal';
	return err;
}

export class Haulout {
	/**
	 * Starts a worker and loads the module into it.
	 * @param {{workerUrl?: string|URL, wasmUrl?: string|URL, wasmExecUrl?: string|URL}} [urls]
	 *   Defaults: worker.js, haulout.wasm and wasm_exec.js beside this file.
	 * @returns {Promise<Haulout>}
	 */
	static async start({
		workerUrl = new URL('./worker.js', import.meta.url),
		wasmUrl = new URL('./haulout.wasm', import.meta.url),
		wasmExecUrl = new URL('./wasm_exec.js', import.meta.url),
	} = {}) {
		const h = new Haulout(new Worker(workerUrl));
		await h.init({ wasmUrl, wasmExecUrl });
		return h;
	}

	/**
	 * Wraps a worker that runs worker.js (or anything with postMessage and
	 * addEventListener('message') that speaks its protocol). Call init next.
	 */
	constructor(worker) {
		this.worker = worker;
		this.nextId = 1;
		this.pending = new Map(); // id -> {resolve, reject, onProgress}
		this.exited = null;
		worker.addEventListener('message', (event) => this.onMessage(event.data));
		worker.addEventListener('error', (event) => {
			this.fail(new Error(`haulout worker failed: ${event.message || 'script error'}`));
		});
	}

	/** Loads the module in the worker; resolves with the API version. */
	init({ wasmUrl, wasmExecUrl }) {
		return new Promise((resolve, reject) => {
			this.pending.set(0, { resolve, reject });
			this.worker.postMessage({ type: 'init', wasmUrl: String(wasmUrl), wasmExecUrl: String(wasmExecUrl) });
		});
	}

	onMessage(msg) {
		if (!msg) return;
		if (msg.type === 'exit') {
			this.fail(toError(msg.error));
			return;
		}
		const id = msg.type === 'ready' ? 0 : msg.id;
		const p = this.pending.get(id);
		if (!p) return;
		switch (msg.type) {
			case 'ready':
				this.pending.delete(0);
				p.resolve(msg.apiVersion);
				break;
			case 'progress':
				if (p.onProgress) {
					const { op, phase, done, total } = msg;
					p.onProgress({ op, phase, done, total });
				}
				break;
			case 'result':
				this.pending.delete(id);
				p.resolve(msg.value);
				break;
			case 'error':
				this.pending.delete(id);
				p.reject(toError(msg.error));
				break;
		}
	}

	fail(err) {
		this.exited = err;
		for (const p of this.pending.values()) p.reject(err);
		this.pending.clear();
	}

	call(method, args) {
		if (this.exited) return Promise.reject(this.exited);
		const id = this.nextId++;
		args = args.slice();
		let onProgress = null;
		const transfer = [];
		const at = OPTIONS_AT[method];
		if (at !== undefined && args[at]) {
			const { onProgress: cb, transfer: give, ...rest } = args[at];
			onProgress = typeof cb === 'function' ? cb : null;
			if (give && args[0] instanceof Uint8Array) transfer.push(args[0].buffer);
			args[at] = { ...rest, progress: onProgress !== null };
		}
		return new Promise((resolve, reject) => {
			this.pending.set(id, { resolve, reject, onProgress });
			this.worker.postMessage({ type: 'call', id, method, args }, transfer);
		});
	}

	/**
	 * The blob ID of data for nShards shards, as Walrus writes it (43
	 * characters of URL-safe base64).
	 * @param {Uint8Array} data
	 * @param {number} nShards
	 * @param {{onProgress?: Function, transfer?: boolean}} [options]
	 *   transfer: move data's buffer to the worker instead of copying it.
	 * @returns {Promise<string>}
	 */
	blobId(data, nShards, options) {
		return this.call('blobId', [data, nShards, options]);
	}

	/** Blob ID, metadata (both BCS forms) and sizes, without slivers. */
	computeMetadata(data, nShards, options) {
		return this.call('computeMetadata', [data, nShards, options]);
	}

	/** computeMetadata plus pairs: [{primary, secondary}] BCS SliverData, in pair order. */
	encode(data, nShards, options) {
		return this.call('encode', [data, nShards, options]);
	}

	/**
	 * The blob back from metadata (BCS BlobMetadataWithId or BlobMetadata) and
	 * slivers (pairs as encode returns them, or primary BCS Uint8Arrays).
	 * @param {{onProgress?: Function, blobId?: string, consistency?: 'default'|'strict'|'skip'}} [options]
	 * @returns {Promise<Uint8Array>}
	 */
	decode(metadata, slivers, nShards, options) {
		return this.call('decode', [metadata, slivers, nShards, options]);
	}

	/** Sizes and memory needs of a blob of length bytes at nShards. */
	limits(length, nShards) {
		return this.call('limits', [length, nShards]);
	}

	/** Caps the memory a call may plan to use (0: the default, 3 GiB). */
	setMemoryBudget(bytes) {
		return this.call('setMemoryBudget', [bytes]);
	}

	/**
	 * The BCS storage confirmation that every node must sign for blobId in
	 * epoch: permanent, or for the deletable Blob object objectId.
	 * @returns {Promise<Uint8Array>}
	 */
	confirmationMessage(epoch, blobId, objectId) {
		return this.call('confirmationMessage', [epoch, blobId, objectId ?? null]);
	}

	/**
	 * Whether signature (bytes or base64) is publicKey's BLS12-381 signature
	 * over message, as a committee member signs confirmations.
	 * @returns {Promise<boolean>}
	 */
	verifySignature(publicKey, message, signature) {
		return this.call('verifySignature', [publicKey, message, signature]);
	}

	/**
	 * The aggregate of BLS12-381 signatures (bytes or base64): the signature
	 * of a certificate.
	 * @returns {Promise<Uint8Array>}
	 */
	aggregateSignatures(signatures) {
		return this.call('aggregateSignatures', [signatures]);
	}

	/** Stops the worker; pending calls reject. */
	terminate() {
		this.fail(new Error('haulout worker terminated'));
		this.worker.terminate();
	}
}
