// Loads haulout.wasm into this Node process the way worker.js does in a
// browser, from the paths the Go test passes in the environment.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const paths = {
	wasm: process.env.HAULOUT_WASM,
	wasmExec: process.env.HAULOUT_WASM_EXEC,
	vectors: process.env.HAULOUT_VECTORS,
};
for (const [k, v] of Object.entries(paths)) {
	if (!v) throw new Error(`run these tests through go test ./wasm/js (${k} is not set)`);
}

let loaded = null;

// loadHaulout returns globalThis.haulout, starting the Go program once.
export async function loadHaulout() {
	if (!loaded) {
		loaded = (async () => {
			await import(pathToFileURL(paths.wasmExec).href); // defines globalThis.Go
			const go = new globalThis.Go();
			const { instance } = await WebAssembly.instantiate(readFileSync(paths.wasm), go.importObject);
			go.run(instance).then(() => {
				throw new Error('the haulout module exited');
			});
			return globalThis.haulout;
		})();
	}
	return loaded;
}

export function vectors() {
	return JSON.parse(readFileSync(paths.vectors, 'utf8'));
}

export const hex = (b) => Buffer.from(b).toString('hex');
export const utf8 = (s) => new TextEncoder().encode(s);

// The PRNG of the Walrus reference harness (codec/testdata/walrus-reference).
export function input(size, seed) {
	let x = (Math.imul(seed, 2654435761) + 1) >>> 0;
	if (x === 0) x = 1;
	const b = new Uint8Array(size);
	for (let i = 0; i < size; i++) {
		x ^= x << 13;
		x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5;
		x >>>= 0;
		b[i] = x & 0xff;
	}
	return b;
}
