// The upload page: encode locally, show the blob ID, then store the file
// through the publisher (one PUT with a progress bar) or directly: register
// on the ledger, write metadata and slivers to every storage node, collect
// their signed confirmations, aggregate them and certify.
import { config, codec, request, ledger, rememberBlob, h, formatBytes, base64, browseLink } from './common.js';

const $ = (id) => document.getElementById(id);

// Per node: slivers in flight at once, and tries per request.
const NODE_CONCURRENCY = 4;
const TRIES = 4;

function options() {
	return {
		mode: document.querySelector('input[name=mode]:checked').value,
		epochs: Math.max(1, Math.floor(Number($('epochs').value) || 1)),
		deletable: $('deletable').checked,
	};
}

/** One file's upload and its card in the list. */
class Upload {
	constructor(file, opts) {
		this.file = file;
		this.opts = opts;
		this.bytes = null;
		this.blobId = null;
		this.direct = null; // direct mode's progress, kept for a retry
		this.el = h('li', { class: 'upload', 'data-file': file.name, 'data-state': 'queued', 'data-mode': opts.mode });
		this.title = h('div', { class: 'title' }, h('strong', {}, file.name), ' ', h('span', { class: 'hint' }, formatBytes(file.size)),
			' ', h('span', { class: 'hint' }, opts.mode === 'direct' ? 'direct to the nodes' : 'through the publisher'));
		this.idLine = h('div', { class: 'id-line', hidden: true }, 'Blob ID ', h('code', { class: 'blob-id' }));
		this.state = h('div', { class: 'state' }, 'waiting');
		this.bar = h('progress', { class: 'bar', max: 1, value: 0 });
		this.nodes = h('table', { class: 'nodes', hidden: true });
		this.error = h('p', { class: 'error', role: 'alert', hidden: true });
		this.retry = h('button', { type: 'button', class: 'retry', hidden: true, onclick: () => this.start() }, 'Retry');
		this.result = h('div', { class: 'result', hidden: true });
		this.el.append(this.title, this.idLine, this.state, this.bar, this.nodes, this.error, this.retry, this.result);
	}

	setState(state, text) {
		this.el.dataset.state = state;
		this.state.textContent = text;
	}

	progress(done, total) {
		this.bar.max = total || 1;
		this.bar.value = done;
	}

	/** A moving bar: the codec runs as one step, with no progress inside. */
	busy() {
		this.bar.removeAttribute('value');
	}

	showBlobId(id) {
		this.blobId = id;
		this.el.dataset.blobId = id;
		this.idLine.querySelector('code').textContent = id;
		this.idLine.hidden = false;
	}

	async start() {
		this.error.hidden = true;
		this.retry.hidden = true;
		try {
			if (!this.bytes) {
				this.setState('reading', 'reading the file');
				this.bytes = new Uint8Array(await this.file.arrayBuffer());
			}
			const entry = this.opts.mode === 'direct' ? await this.storeDirect() : await this.storePublisher();
			rememberBlob({ name: this.file.name, type: this.file.type, size: this.file.size, mode: this.opts.mode, ...entry });
			this.done(entry);
		} catch (err) {
			console.warn(`upload of ${this.file.name} failed:`, err);
			this.setState('failed', 'failed');
			if (!this.bar.hasAttribute('value')) this.progress(0, 1);
			this.error.textContent = err.message;
			this.error.hidden = false;
			this.retry.hidden = false;
		}
	}

	done(entry) {
		this.setState('done', entry.already ? 'already stored: certified before' : 'stored and certified');
		this.progress(1, 1);
		this.result.replaceChildren(
			h('a', { href: browseLink(entry.blobId) }, 'open'), ' · ',
			h('span', {}, `stored until epoch ${entry.endEpoch}`),
			entry.objectId ? h('span', { class: 'hint' }, ` · Blob object ${entry.objectId}`) : '',
		);
		this.result.hidden = false;
	}

	/** The current committee's shard count: every blob ID depends on it. */
	async shards() {
		const sys = await ledger('/v1/system');
		return sys.nShards;
	}

	async storePublisher() {
		const { publisherUrl } = await config();
		if (!publisherUrl) throw new Error('no publisher is configured for these pages: use a direct upload');
		const n = await this.shards();
		this.setState('encoding', `encoding locally for ${n} shards`);
		this.busy();
		const c = await codec();
		const id = await c.blobId(this.bytes, n);
		this.showBlobId(id);

		this.setState('uploading', `sending ${formatBytes(this.bytes.length)} to the publisher`);
		this.progress(0, this.bytes.length);
		const q = new URLSearchParams({ epochs: this.opts.epochs });
		q.set(this.opts.deletable ? 'deletable' : 'permanent', 'true');
		const answer = await send('publisher', `${publisherUrl}/v1/blobs?${q}`, this.bytes,
			(loaded, total) => this.progress(loaded, total || this.bytes.length));
		if (!answer) throw new Error('the publisher answered the upload without its JSON result');
		const created = answer.newlyCreated && answer.newlyCreated.blobObject;
		const already = answer.alreadyCertified;
		const got = created ? created.blobId : already && already.blobId;
		if (got !== id) {
			throw new Error(`the publisher stored blob ${got}, but this page computed ${id}: the publisher's committee may have changed; retry`);
		}
		if (created) {
			return { blobId: id, objectId: created.id, endEpoch: created.storage.endEpoch, deletable: created.deletable };
		}
		return { blobId: id, objectId: already.object, endEpoch: already.endEpoch, already: true };
	}

	async storeDirect() {
		// A retry after a failure keeps the encoding, the registration and
		// the nodes that confirmed, and redoes only what failed.
		let d = this.direct;
		if (!d) {
			const committee = await ledger('/v1/committee');
			const n = committee.nShards;
			this.setState('encoding', `encoding locally for ${n} shards`);
			this.busy();
			const c = await codec();
			const enc = await c.encode(this.bytes, n, {
				onProgress: (p) => p.phase === 'write' && this.progress(p.done, p.total),
			});
			this.showBlobId(enc.blobId);
			d = this.direct = { committee, enc, record: null, nodes: committee.nodes.map((node, i) => ({ node, i, signature: null, row: null })) };
			this.renderNodes(d);
		}
		const { committee, enc } = d;
		const n = committee.nShards;
		const c = await codec();

		if (!d.record || d.record.endEpoch <= committee.epoch) {
			this.setState('registering', 'registering the blob on the ledger');
			// Walrus's encoded length: per shard one primary and one secondary
			// sliver, two hashes per shard and the blob ID.
			const encodedSize = n * ((enc.primarySourceSymbols + enc.secondarySourceSymbols) * enc.symbolSize + n * 64 + 32);
			d.record = await ledger('/v1/blobs', {
				blobId: enc.blobId,
				rootHash: base64(enc.rootHash),
				unencodedSize: enc.unencodedLength,
				encodingType: 1,
				encodedSize,
				endEpoch: committee.epoch + this.opts.epochs,
				deletable: this.opts.deletable,
			});
			d.want = await c.confirmationMessage(committee.epoch, enc.blobId, this.opts.deletable ? d.record.objectId : null);
			for (const nd of d.nodes) nd.signature = null; // confirmations are per Blob object
		}

		this.setState('distributing', `writing metadata and slivers to ${committee.nodes.length} storage nodes`);
		const rotation = Number(BigInt('0x' + hexOf(enc.blobIdBytes)) % BigInt(n));
		const pairForShard = (s) => (n + s - rotation) % n;
		let settled = 0;
		const total = d.nodes.length;
		this.progress(0, total);
		await Promise.all(d.nodes.map(async (nd) => {
			if (!nd.signature) {
				try {
					nd.signature = await this.storeOnNode(d, nd, pairForShard);
					nd.error = null;
				} catch (err) {
					nd.error = err;
					this.nodeRow(nd, 'failed', err.message);
				}
			}
			this.progress(++settled, total);
		}));

		const quorum = n - Math.floor((n - 1) / 3);
		const good = d.nodes.filter((nd) => nd.signature);
		const weight = good.reduce((w, nd) => w + nd.node.shards.length, 0);
		if (weight < quorum) {
			const failed = d.nodes.filter((nd) => !nd.signature).map((nd) => nd.node.name || nd.i);
			throw new Error(`only ${weight} of ${n} shards confirmed, ${quorum} needed: failed nodes ${failed.join(', ')}`);
		}
		this.setState('certifying', `certifying with ${good.length} confirmations (${weight} of ${n} shards)`);
		const signature = await c.aggregateSignatures(good.map((nd) => nd.signature));
		const rec = await ledger(`/v1/objects/${d.record.objectId}/certify`, {
			signers: good.map((nd) => nd.i),
			serializedMessage: base64(d.want),
			signature: base64(signature),
		});
		this.direct = null;
		return { blobId: enc.blobId, objectId: rec.objectId, endEpoch: rec.endEpoch, deletable: rec.deletable };
	}

	renderNodes(d) {
		this.nodes.replaceChildren(h('tr', {}, h('th', {}, 'Node'), h('th', {}, 'Shards'), h('th', {}, 'Progress'), h('th', {}, 'State')));
		for (const nd of d.nodes) {
			nd.bar = h('progress', { max: 1, value: 0 });
			nd.state = h('td', { class: 'node-state' }, 'waiting');
			nd.row = h('tr', { 'data-node': nd.i, 'data-state': 'waiting' },
				h('td', {}, nd.node.name || `node ${nd.i}`), h('td', {}, String(nd.node.shards.length)), h('td', {}, nd.bar), nd.state);
			this.nodes.append(nd.row);
		}
		this.nodes.hidden = false;
	}

	nodeRow(nd, state, text, done, total) {
		nd.row.dataset.state = state;
		nd.state.textContent = text;
		if (total !== undefined) {
			nd.bar.max = total || 1;
			nd.bar.value = done;
		}
	}

	/**
	 * Writes the metadata and the node's slivers, then asks for its signed
	 * confirmation and checks it: the message this page expects, signed
	 * under the node's key in the committee. Returns the signature.
	 *
	 * The slivers go in haulout's batch requests (PUT .../slivers, one
	 * durable commit per chunk instead of one per sliver); a node without
	 * that route (404 or 405, as Walrus's) gets one PUT per sliver.
	 */
	async storeOnNode(d, nd, pairForShard) {
		const { enc } = d;
		const base = `${nd.node.restUrl.replace(/\/+$/, '')}/v1/blobs/${enc.blobId}`;
		const what = `storage node ${nd.node.name || nd.i}`;
		const slivers = [];
		for (const s of nd.node.shards) {
			const p = pairForShard(s);
			slivers.push({ pair: p, axis: 0, path: `/slivers/${p}/primary`, body: enc.pairs[p].primary });
			slivers.push({ pair: p, axis: 1, path: `/slivers/${p}/secondary`, body: enc.pairs[p].secondary });
		}
		const total = enc.metadataBcs.length + slivers.reduce((n, x) => n + x.body.length, 0);
		let sent = 0;
		const show = (extra = 0) => this.nodeRow(nd, 'sending',
			`sending ${formatBytes(Math.min(total, sent + extra))} of ${formatBytes(total)}`, sent + extra, total);
		show();
		await retrying(() => send(what, base + '/metadata', enc.metadataBcs)); // slivers are checked against it
		sent += enc.metadataBcs.length;
		show();

		let batched = false;
		if (!d.noBatch) {
			try {
				for (const batch of batches(slivers)) {
					await retrying(() => send(what, base + '/slivers', batchBody(batch.slivers), (loaded, all) => show(Math.round(loaded / all * batch.bytes))));
					sent += batch.bytes;
					show();
				}
				batched = true;
			} catch (err) {
				if (err.status !== 404 && err.status !== 405) throw err;
				d.noBatch = true;
			}
		}
		if (!batched) {
			let next = 0;
			await Promise.all(Array.from({ length: NODE_CONCURRENCY }, async () => {
				while (next < slivers.length) {
					const x = slivers[next++];
					await retrying(() => send(what, base + x.path, x.body));
					sent += x.body.length;
					show();
				}
			}));
		}

		this.nodeRow(nd, 'confirming', 'asking for its confirmation', total, total);
		const kind = this.opts.deletable ? `deletable/${d.record.objectId}` : 'permanent';
		const res = await retrying(() => request(what, `${base}/confirmation/${kind}`));
		const body = await res.json();
		const signed = body && body.success && body.success.data && body.success.data.signed;
		if (!signed) throw new Error(`${what} answered its confirmation without a signed message`);
		if (signed.serializedMessage !== base64(d.want)) {
			throw new Error(`${what} confirmed another message than this blob's storage confirmation`);
		}
		const c = await codec();
		if (!(await c.verifySignature(nd.node.publicKey, d.want, signed.signature))) {
			throw new Error(`${what}'s confirmation does not verify under its key in the committee`);
		}
		this.nodeRow(nd, 'confirmed', 'confirmed', total, total);
		return signed.signature;
	}
}

// A batch request carries at most about this much sliver data, as the
// publisher's (publisher.DefaultBatchBytes).
const BATCH_BYTES = 16 << 20;

/** Splits slivers into batches of at most about BATCH_BYTES. */
function batches(slivers) {
	const out = [];
	let cur = null;
	for (const x of slivers) {
		if (!cur || (cur.bytes > 0 && cur.bytes + x.body.length > BATCH_BYTES)) out.push((cur = { slivers: [], bytes: 0 }));
		cur.slivers.push(x);
		cur.bytes += x.body.length;
	}
	return out;
}

/**
 * The body of PUT /v1/blobs/{id}/slivers: BCS Vec<{pair u16, axis u8,
 * SliverData}> (nodeclient.AppendBatch), as a Blob of the slivers' own
 * buffers, not a copy.
 */
function batchBody(slivers) {
	const parts = [uleb(slivers.length)];
	for (const x of slivers) {
		parts.push(new Uint8Array([x.pair & 0xff, x.pair >> 8, x.axis]), x.body);
	}
	return new Blob(parts, { type: 'application/octet-stream' });
}

function uleb(n) {
	const out = [];
	do {
		let b = n & 0x7f;
		n = Math.floor(n / 128);
		if (n > 0) b |= 0x80;
		out.push(b);
	} while (n > 0);
	return new Uint8Array(out);
}

/**
 * PUTs body with XMLHttpRequest, the one browser API with upload progress,
 * and resolves to the JSON answer (or null). Errors say plainly which
 * service failed, with .status for an error answer and .unreachable for a
 * refused connection, as request does.
 */
function send(what, url, body, onProgress) {
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open('PUT', url);
		xhr.setRequestHeader('Content-Type', 'application/octet-stream');
		if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded, e.total);
		xhr.onload = () => {
			let json = null;
			try {
				json = JSON.parse(xhr.responseText);
			} catch {
				/* not JSON */
			}
			if (xhr.status >= 200 && xhr.status < 300) {
				resolve(json);
				return;
			}
			const msg = (json && json.error && json.error.message) || xhr.responseText.trim() || xhr.statusText;
			const err = new Error(`the ${what} refused PUT ${new URL(url).pathname}: HTTP ${xhr.status} ${msg}`);
			err.status = xhr.status;
			reject(err);
		};
		xhr.onerror = () => {
			const err = new Error(`cannot reach the ${what} at ${new URL(url).origin}: is it running?`);
			err.unreachable = true;
			reject(err);
		};
		xhr.send(body);
	});
}

/** Tries f up to TRIES times on refused connections and 5xx answers. */
async function retrying(f) {
	for (let attempt = 1; ; attempt++) {
		try {
			return await f();
		} catch (err) {
			const transient = err.unreachable || (err.status >= 500) || err.status === 429;
			if (!transient || attempt >= TRIES) throw err;
			await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
		}
	}
}

function hexOf(bytes) {
	return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function add(files) {
	const opts = options();
	for (const file of files) {
		const u = new Upload(file, opts);
		$('uploads').prepend(u.el);
		u.start();
	}
}

async function init() {
	const cfg = await config();
	if (cfg.publisherUrl) {
		$('publisher-url').textContent = `(${cfg.publisherUrl})`;
	} else {
		$('mode-publisher').disabled = true;
		$('mode-direct').checked = true;
		$('publisher-url').textContent = '(none configured)';
	}
	$('file').addEventListener('change', (e) => {
		add(Array.from(e.target.files));
		e.target.value = '';
	});
	const drop = $('drop');
	drop.addEventListener('dragover', (e) => {
		e.preventDefault();
		drop.classList.add('over');
	});
	drop.addEventListener('dragleave', () => drop.classList.remove('over'));
	drop.addEventListener('drop', (e) => {
		e.preventDefault();
		drop.classList.remove('over');
		add(Array.from(e.dataTransfer.files));
	});
	// Start the codec while the person picks files.
	codec().catch((err) => showPageError(err.message));
	document.body.dataset.ready = 'true';
}

function showPageError(msg) {
	$('page-error').textContent = msg;
	$('page-error').hidden = false;
}

init().catch((err) => showPageError(err.message));
