// haulout codec worker: runs haulout.wasm (GOOS=js) off the page's main
// thread. A classic worker script (importScripts loads Go's wasm_exec.js);
// haulout.js drives it, but any page can speak its messages directly:
//
//   page -> worker  {type: 'init', wasmUrl, wasmExecUrl}
//   worker -> page  {type: 'ready', apiVersion}
//   page -> worker  {type: 'call', id, method, args}
//                   method: blobId | computeMetadata | encode | decode | limits | setMemoryBudget
//                           | confirmationMessage | verifySignature | aggregateSignatures
//   worker -> page  {type: 'progress', id, op, phase, done, total}   (zero or more)
//   worker -> page  {type: 'result', id, value}                      (byte arrays transferred)
//   worker -> page  {type: 'error', id, error: {name, message, code}}
//   worker -> page  {type: 'exit', error: {name, message, code}}     (the module stopped; no more calls)
//
// Calls run one at a time, in the order they arrive. Errors from 'init' come
// back as {type: 'error', id: 0}.
'use strict';

const METHODS = new Set([
	'blobId', 'computeMetadata', 'encode', 'decode', 'limits', 'setMemoryBudget',
	'confirmationMessage', 'verifySignature', 'aggregateSignatures',
]);
let api = null; // globalThis.haulout once the module runs
let stopped = null; // set when the Go program has exited

function errorData(err) {
	return {
		name: (err && err.name) || 'Error',
		message: (err && err.message) || String(err),
		code: (err && err.code) || 'internal',
	};
}

// buffersOf lists the ArrayBuffers of a result, so that they move to the
// page instead of being copied.
function buffersOf(value, out = []) {
	if (value instanceof Uint8Array) {
		if (!out.includes(value.buffer)) out.push(value.buffer);
	} else if (Array.isArray(value)) {
		for (const v of value) buffersOf(v, out);
	} else if (value && typeof value === 'object') {
		for (const v of Object.values(value)) buffersOf(v, out);
	}
	return out;
}

async function loadModule(wasmUrl) {
	const go = new Go();
	let instance;
	try {
		({ instance } = await WebAssembly.instantiateStreaming(fetch(wasmUrl), go.importObject));
	} catch (err) {
		// Servers that do not send application/wasm, and fetch implementations
		// without streaming, still work through an ArrayBuffer.
		const res = await fetch(wasmUrl);
		if (!res.ok) throw new Error(`fetching ${wasmUrl}: HTTP ${res.status}`);
		({ instance } = await WebAssembly.instantiate(await res.arrayBuffer(), go.importObject));
	}
	// run() returns a promise that settles when the Go program exits, which it
	// only does if something went badly wrong.
	go.run(instance).then(
		() => stop(new Error('the haulout module exited')),
		(err) => stop(err),
	);
	if (!globalThis.haulout || typeof globalThis.haulout.blobId !== 'function') {
		throw new Error('haulout.wasm started but did not install globalThis.haulout');
	}
	return globalThis.haulout;
}

function stop(err) {
	stopped = err;
	self.postMessage({ type: 'exit', error: errorData(err) });
}

async function call(id, method, args) {
	if (stopped) throw stopped;
	if (!api) throw new Error('haulout worker: call before init');
	if (!METHODS.has(method)) {
		const err = new Error(`haulout worker: unknown method ${JSON.stringify(method)}`);
		err.code = 'invalid-argument';
		throw err;
	}
	args = Array.isArray(args) ? args.slice() : [];
	// Progress callbacks cannot cross postMessage: the worker reports them.
	const optsAt = { blobId: 2, computeMetadata: 2, encode: 2, decode: 3 }[method];
	if (optsAt !== undefined) {
		const opts = Object.assign({}, args[optsAt] || {});
		if (opts.progress) {
			opts.onProgress = (p) => self.postMessage({ type: 'progress', id, ...p });
		}
		delete opts.progress;
		while (args.length < optsAt) args.push(undefined);
		args[optsAt] = opts;
	}
	return api[method](...args);
}

let queue = Promise.resolve();

self.addEventListener('message', (event) => {
	const msg = event.data || {};
	if (msg.type === 'init') {
		queue = queue.then(async () => {
			try {
				if (!api) {
					importScripts(msg.wasmExecUrl);
					api = await loadModule(msg.wasmUrl);
				}
				self.postMessage({ type: 'ready', apiVersion: api.apiVersion });
			} catch (err) {
				self.postMessage({ type: 'error', id: 0, error: errorData(err) });
			}
		});
		return;
	}
	if (msg.type === 'call') {
		const { id, method, args } = msg;
		queue = queue.then(async () => {
			try {
				const value = await call(id, method, args);
				self.postMessage({ type: 'result', id, value }, buffersOf(value));
			} catch (err) {
				self.postMessage({ type: 'error', id, error: errorData(err) });
			}
		});
	}
});
