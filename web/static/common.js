// Shared by the pages: settings, the codec worker, the ledger's API, the
// list of blobs this browser stored, and small DOM helpers.
let settings = null;

/** The network's URLs, from the server that serves the pages. */
export async function config() {
	if (!settings) {
		const res = await fetch(new URL('./config.json', import.meta.url));
		if (!res.ok) throw new Error(`reading the page settings: HTTP ${res.status}`);
		settings = await res.json();
		const trim = (u) => (u || '').replace(/\/+$/, '');
		settings.publisherUrl = trim(settings.publisherUrl);
		settings.ledgerUrl = trim(settings.ledgerUrl);
		settings.aggregatorUrl = trim(settings.aggregatorUrl) || location.origin;
	}
	return settings;
}

let codecStarted = null;

/** The codec in a Web Worker, started once per page. */
export function codec() {
	if (!codecStarted) {
		// Imported here, not at the top: a page whose codec is missing still
		// works for everything else and says why uploads cannot.
		codecStarted = import('./codec/haulout.js').then(({ Haulout }) => Haulout.start()).catch(async (err) => {
			codecStarted = null;
			// Say why plainly: a binary built without the codec answers 404.
			const res = await fetch(new URL('./codec/haulout.wasm', import.meta.url), { method: 'HEAD' }).catch(() => null);
			if (res && res.status === 404) {
				throw new Error('this haulout was built without the browser codec: run `make build` (go generate ./web)');
			}
			throw new Error(`the codec did not start: ${err.message}`);
		});
	}
	return codecStarted;
}

/**
 * The message of an error answer: Walrus's envelope {error: {message}} or
 * the text of the body.
 */
async function answerError(what, res) {
	let text = '';
	try {
		text = await res.text();
	} catch {
		/* the status says enough */
	}
	let msg = text.trim();
	try {
		const j = JSON.parse(text);
		msg = (j.error && (j.error.message || j.error.status)) || msg;
	} catch {
		/* not JSON */
	}
	const err = new Error(`${what}: HTTP ${res.status}${msg ? ` ${msg}` : ''}`);
	err.status = res.status;
	return err;
}

/**
 * fetch with errors said plainly: a refused connection names the service
 * and its URL, an error answer its status and message.
 */
export async function request(what, url, init = {}) {
	let res;
	try {
		res = await fetch(url, init);
	} catch (err) {
		const e = new Error(`cannot reach the ${what} at ${new URL(url).origin} (${err.message})`);
		e.unreachable = true;
		throw e;
	}
	if (!res.ok) throw await answerError(`the ${what} refused ${init.method || 'GET'} ${new URL(url).pathname}`, res);
	return res;
}

/** GET or POST JSON on the ledger. */
export async function ledger(path, body) {
	const { ledgerUrl } = await config();
	if (!ledgerUrl) throw new Error('no ledger URL is configured for these pages');
	const init = body === undefined ? {} : {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	};
	const res = await request('ledger', ledgerUrl + path, init);
	return res.json();
}

// The blobs this browser stored, newest first, in localStorage.
const STORE_KEY = 'haulout.blobs';

export function storedBlobs() {
	try {
		const v = JSON.parse(localStorage.getItem(STORE_KEY) || '[]');
		return Array.isArray(v) ? v : [];
	} catch {
		return [];
	}
}

export function rememberBlob(entry) {
	const list = storedBlobs().filter((b) => !(b.blobId === entry.blobId && b.objectId === entry.objectId));
	list.unshift({ ...entry, storedAt: new Date().toISOString() });
	localStorage.setItem(STORE_KEY, JSON.stringify(list.slice(0, 500)));
}

export function forgetBlobs() {
	localStorage.removeItem(STORE_KEY);
}

/** h('div', {class: 'x'}, child...) builds an element; strings become text. */
export function h(tag, attrs = {}, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v === undefined || v === null || v === false) continue;
		if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
		else el.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of children.flat()) {
		if (c === undefined || c === null || c === false) continue;
		el.append(c instanceof Node ? c : String(c));
	}
	return el;
}

export function formatBytes(n) {
	if (n < 1024) return `${n} B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let v = n;
	let i = -1;
	do {
		v /= 1024;
		i++;
	} while (v >= 1024 && i < units.length - 1);
	return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export const base64 = (bytes) => {
	let s = '';
	for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	return btoa(s);
};

/** The wall-clock start of epoch e, from the ledger's system info. */
export function epochStart(sys, e) {
	const start = Date.parse(sys.epochStart);
	const ms = sys.epochDuration / 1e6; // nanoseconds in JSON
	return new Date(start + (e - sys.epoch) * ms);
}

export function browseLink(blobId) {
	return `./browse.html?id=${encodeURIComponent(blobId)}`;
}
