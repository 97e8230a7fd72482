// The browse page: open a blob by ID (its status and expiry from the
// ledger, its bytes from the aggregator, shown when the browser can display
// them), and the list of blobs this browser stored.
import { config, request, ledger, storedBlobs, forgetBlobs, h, formatBytes, epochStart, browseLink } from './common.js';

const $ = (id) => document.getElementById(id);

// Larger blobs are offered for download only: a preview holds the blob in
// the page's memory.
const PREVIEW_LIMIT = 64 << 20;
const BLOB_ID = /^[A-Za-z0-9_-]{43}$/;

let objectUrl = null;

function showError(msg) {
	$('blob-error').textContent = msg;
	$('blob-error').hidden = false;
}

/** Walrus's BlobStatus JSON in words, with the end epoch if any. */
function describeStatus(st) {
	if (st === 'nonexistent' || st.nonexistent !== undefined) return { text: 'unknown: no Blob object has this ID', state: 'nonexistent' };
	if (st.invalid) return { text: 'invalid: the storage nodes attested that it is inconsistently encoded', state: 'invalid' };
	if (st.permanent) {
		const p = st.permanent;
		const certified = Boolean(p.isCertified);
		return {
			text: `${certified ? 'certified' : 'registered, not certified'}, permanent`,
			state: certified ? 'certified' : 'registered', endEpoch: p.endEpoch,
		};
	}
	if (st.deletable) {
		const d = st.deletable;
		const counts = d.deletableCounts || {};
		const certified = (counts.count_deletable_certified || 0) > 0;
		return {
			text: `${certified ? 'certified' : 'registered, not certified'}, deletable (${counts.count_deletable_total || 0} object(s))`,
			state: certified ? 'certified' : 'registered',
		};
	}
	return { text: JSON.stringify(st), state: 'unknown' };
}

/** What the first bytes say the blob is, when the browser can show it. */
function sniff(bytes) {
	const starts = (...sig) => sig.every((b, i) => bytes[i] === b);
	const ascii = (s, at = 0) => [...s].every((ch, i) => bytes[at + i] === ch.charCodeAt(0));
	if (starts(0x89, 0x50, 0x4e, 0x47)) return 'image/png';
	if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
	if (ascii('GIF8')) return 'image/gif';
	if (ascii('RIFF') && ascii('WEBP', 8)) return 'image/webp';
	if (ascii('%PDF-')) return 'application/pdf';
	if (ascii('ftyp', 4)) return 'video/mp4';
	if (ascii('OggS')) return 'audio/ogg';
	if (ascii('ID3')) return 'audio/mpeg';
	const head = bytes.subarray(0, 64 << 10);
	if (head.includes(0)) return 'application/octet-stream';
	try {
		new TextDecoder('utf-8', { fatal: true }).decode(head.length < bytes.length ? trimUtf8(head) : head);
	} catch {
		return 'application/octet-stream';
	}
	const text = new TextDecoder().decode(head.subarray(0, 512)).trimStart().toLowerCase();
	if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) return 'image/svg+xml';
	return 'text/plain';
}

// trimUtf8 drops a character cut at the end of a prefix.
function trimUtf8(b) {
	let end = b.length;
	for (let i = 1; i <= 3 && end - i >= 0; i++) {
		const c = b[end - i];
		if ((c & 0xc0) === 0xc0) return b.subarray(0, end - i);
		if ((c & 0x80) === 0) break;
	}
	return b;
}

async function open(id) {
	id = id.trim();
	$('blob').hidden = false;
	$('blob-error').hidden = true;
	$('blob-title').textContent = id;
	for (const f of ['blob-status', 'blob-expiry', 'blob-size', 'blob-type']) $(f).textContent = '…';
	$('blob-view').replaceChildren();
	$('blob').dataset.state = 'loading';
	if (objectUrl) URL.revokeObjectURL(objectUrl);
	objectUrl = null;
	if (!BLOB_ID.test(id)) {
		$('blob').dataset.state = 'failed';
		for (const f of ['blob-status', 'blob-expiry', 'blob-size', 'blob-type']) $(f).textContent = '';
		showError(`"${id}" is not a blob ID: a blob ID is 43 characters of URL-safe base64`);
		return;
	}
	const cfg = await config();
	const url = `${cfg.aggregatorUrl}/v1/blobs/${id}`;
	$('blob-raw').href = url;
	$('blob-download').href = url;
	$('blob-download').setAttribute('download', downloadName(id));

	// Status and bytes are independent: one failing does not hide the other.
	const status = (async () => {
		const [st, objects, sys] = await Promise.all([
			ledger(`/v1/blobs/${id}/status`), ledger(`/v1/blobs/${id}/objects`).catch(() => []), ledger('/v1/system'),
		]);
		const s = describeStatus(st);
		$('blob-status').textContent = s.text;
		$('blob-status').dataset.state = s.state;
		const live = objects.filter((o) => !o.deleted && o.endEpoch > sys.epoch);
		const end = Math.max(s.endEpoch || 0, ...live.map((o) => o.endEpoch));
		if (end > 0) {
			const at = epochStart(sys, end);
			$('blob-expiry').textContent = `at the start of epoch ${end} (${at.toLocaleString()}); now epoch ${sys.epoch}`;
		} else {
			$('blob-expiry').textContent = 'not stored';
		}
	})().catch((err) => {
		$('blob-status').textContent = `unknown (${err.message})`;
		$('blob-expiry').textContent = '';
	});

	const content = (async () => {
		const head = await request('aggregator', url, { method: 'HEAD' });
		const size = Number(head.headers.get('Content-Length'));
		$('blob-size').textContent = Number.isFinite(size) ? `${formatBytes(size)} (${size} bytes)` : 'unknown';
		if (size > PREVIEW_LIMIT) {
			$('blob-type').textContent = 'not previewed: too large';
			$('blob-view').append(h('p', { class: 'hint' }, `Larger than ${formatBytes(PREVIEW_LIMIT)}: use Download.`));
			return;
		}
		const res = await request('aggregator', url);
		const bytes = new Uint8Array(await res.arrayBuffer());
		const known = storedBlobs().find((b) => b.blobId === id && b.type);
		const type = (known && known.type) || sniff(bytes);
		$('blob-type').textContent = known && known.type ? `${type} (as uploaded from this browser)` : `${type} (from its first bytes)`;
		$('blob-size').textContent = `${formatBytes(bytes.length)} (${bytes.length} bytes)`;
		objectUrl = URL.createObjectURL(new Blob([bytes], { type }));
		$('blob-download').href = objectUrl;
		show(type, bytes);
	})().catch((err) => {
		$('blob-size').textContent = '';
		$('blob-type').textContent = '';
		throw err;
	});

	const [, got] = await Promise.allSettled([status, content]);
	if (got.status === 'fulfilled') {
		$('blob').dataset.state = 'loaded';
		return;
	}
	const err = got.reason;
	$('blob').dataset.state = 'failed';
	showError(err.status === 404
		? `the aggregator has no certified blob with this ID (${err.message})`
		: err.message);
}

function downloadName(id) {
	const known = storedBlobs().find((b) => b.blobId === id && b.name);
	return known ? known.name : `${id}.bin`;
}

function show(type, bytes) {
	const view = $('blob-view');
	if (type.startsWith('image/')) {
		view.append(h('img', { src: objectUrl, alt: `blob ${$('blob-title').textContent}`, class: 'preview' }));
	} else if (type.startsWith('video/')) {
		view.append(h('video', { src: objectUrl, controls: true, class: 'preview' }));
	} else if (type.startsWith('audio/')) {
		view.append(h('audio', { src: objectUrl, controls: true }));
	} else if (type.startsWith('text/') || type === 'application/json') {
		const text = new TextDecoder().decode(bytes.subarray(0, 1 << 20));
		view.append(h('pre', { class: 'text', id: 'blob-text' }, text));
		if (bytes.length > 1 << 20) view.append(h('p', { class: 'hint' }, 'The first MiB is shown: use Download for all of it.'));
	} else {
		view.append(h('p', { class: 'hint' }, 'This browser cannot show this type: use Download.'));
	}
}

function renderMine() {
	const list = storedBlobs();
	const body = $('mine').querySelector('tbody');
	body.replaceChildren(...list.map((b) => h('tr', { 'data-blob-id': b.blobId },
		h('td', {}, b.name || ''),
		h('td', {}, h('a', { href: browseLink(b.blobId), class: 'blob-link' }, h('code', {}, b.blobId))),
		h('td', {}, formatBytes(b.size || 0)),
		h('td', {}, b.endEpoch ?? ''),
		h('td', {}, b.storedAt ? new Date(b.storedAt).toLocaleString() : ''),
		h('td', {}, b.mode === 'direct' ? 'direct' : 'publisher'),
	)));
	$('mine').hidden = list.length === 0;
	$('mine-empty').hidden = list.length > 0;
}

function init() {
	$('open').addEventListener('submit', (e) => {
		e.preventDefault();
		const id = $('blob-id').value.trim();
		history.replaceState(null, '', browseLink(id));
		open(id);
	});
	$('forget').addEventListener('click', () => {
		forgetBlobs();
		renderMine();
	});
	renderMine();
	const id = new URLSearchParams(location.search).get('id');
	if (id) {
		$('blob-id').value = id;
		open(id);
	}
	document.body.dataset.ready = 'true';
}

init();
