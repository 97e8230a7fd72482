// Runs worker.js in a node:worker_threads Worker as a browser runs it in a
// Web Worker: self, postMessage, addEventListener('message'),
// importScripts and fetch of local files.
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const toPath = (u) => (String(u).startsWith('file:') ? fileURLToPath(u) : String(u));

globalThis.self = globalThis;
globalThis.postMessage = (msg, transfer) => parentPort.postMessage(msg, transfer);
globalThis.addEventListener = (type, fn) => {
	if (type === 'message') parentPort.on('message', (data) => fn({ data }));
};
globalThis.importScripts = (...urls) => {
	for (const u of urls) vm.runInThisContext(readFileSync(toPath(u), 'utf8'), { filename: toPath(u) });
};
globalThis.fetch = async (url) =>
	new Response(readFileSync(toPath(url)), { headers: { 'content-type': 'application/wasm' } });

vm.runInThisContext(readFileSync(workerData.script, 'utf8'), { filename: workerData.script });
