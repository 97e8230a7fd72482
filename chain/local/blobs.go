package local

import (
	"context"
	"fmt"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
)

// Register creates a Blob object for a blob, as Walrus's register_blob with a
// fresh storage resource: the encoding must be RS2, the end epoch in
// (current, current+MaxEpochsAhead], the encoded size at least what the
// blob takes on the current committee's shards, and the blob ID must commit
// to the root hash, size and encoding. It returns the new object, whose
// ObjectID and RegisterEvent name it.
func (l *Ledger) Register(ctx context.Context, req chain.RegisterRequest) (chain.BlobRecord, error) {
	if err := l.lock(ctx); err != nil {
		return chain.BlobRecord{}, err
	}
	defer l.mu.Unlock()
	if err := l.checkRegister(req); err != nil {
		return chain.BlobRecord{}, err
	}
	e := l.st.newEntry(opRegister, l.now())
	objectID := chain.ObjectID(l.st.derive("object", e.Tx))
	e.Event = l.st.newEvent(e, chain.EventRegistered)
	e.Event.BlobID = req.BlobID
	e.Event.ObjectID = objectID
	e.Event.UnencodedSize = req.UnencodedSize
	e.Event.EncodingType = req.EncodingType
	e.Event.EndEpoch = req.EndEpoch
	e.Event.Deletable = req.Deletable
	e.Blob = &chain.BlobRecord{
		ObjectID:        objectID,
		BlobID:          req.BlobID,
		UnencodedSize:   req.UnencodedSize,
		EncodingType:    req.EncodingType,
		EncodedSize:     req.EncodedSize,
		RegisteredEpoch: l.st.epoch,
		EndEpoch:        req.EndEpoch,
		Deletable:       req.Deletable,
		RegisterEvent:   e.Event.ID,
		StatusEvent:     e.Event.ID,
	}
	if err := l.commit(e); err != nil {
		return chain.BlobRecord{}, fmt.Errorf("register %s: %w", req.BlobID, err)
	}
	return e.Blob.Clone(), nil
}

func (l *Ledger) checkRegister(req chain.RegisterRequest) error {
	if req.EncodingType != chain.EncodingRS2 {
		return fmt.Errorf("%w: %s", chain.ErrInvalidEncoding, req.EncodingType)
	}
	if err := l.checkEndEpoch(req.EndEpoch); err != nil {
		return err
	}
	nShards := l.st.committee().NShards
	need, err := chain.EncodedBlobLength(req.UnencodedSize, nShards)
	if err != nil {
		return err
	}
	if req.EncodedSize < need {
		return fmt.Errorf("%w: encoded size %d, a blob of %d bytes takes %d on %d shards",
			chain.ErrInvalidSize, req.EncodedSize, req.UnencodedSize, need, nShards)
	}
	if got := chain.DeriveBlobID(req.RootHash, req.EncodingType, req.UnencodedSize); got != req.BlobID {
		return fmt.Errorf("%w: %s, the root hash gives %s", chain.ErrInvalidBlobID, req.BlobID, got)
	}
	return nil
}

func (l *Ledger) checkEndEpoch(end chain.Epoch) error {
	cur := l.st.epoch
	if end <= cur {
		return fmt.Errorf("%w: end epoch %d is not after the current epoch %d", chain.ErrInvalidEpochs, end, cur)
	}
	if uint64(end) > uint64(cur)+uint64(l.cfg.MaxEpochsAhead) {
		return fmt.Errorf("%w: end epoch %d is more than %d epochs after %d", chain.ErrInvalidEpochs, end, l.cfg.MaxEpochsAhead, cur)
	}
	return nil
}

// object returns the live-or-expired, not deleted object id.
func (l *Ledger) object(id chain.ObjectID) (*object, error) {
	o, ok := l.st.objects[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", chain.ErrBlobNotFound, id)
	}
	if o.rec.Deleted {
		return nil, fmt.Errorf("%w: %s was deleted", chain.ErrNotRegistered, id)
	}
	return o, nil
}

// Certify certifies the Blob object id with a certificate of the current
// committee over a storage confirmation, with the checks and in the order of
// Walrus's certify_blob: signers distinct and in range, holding a quorum of
// shards, aggregate signature valid against their summed keys; message of the
// current epoch (chain.ErrEpochMismatch otherwise), a storage confirmation
// for this blob ID with this object's persistence type; object neither
// certified already nor expired.
func (l *Ledger) Certify(ctx context.Context, id chain.ObjectID, cert chain.Certificate) (chain.BlobRecord, error) {
	if err := l.lock(ctx); err != nil {
		return chain.BlobRecord{}, err
	}
	defer l.mu.Unlock()
	o, err := l.object(id)
	if err != nil {
		return chain.BlobRecord{}, err
	}
	committee := l.st.committee()
	if _, err := committee.VerifyCertificate(cert, committee.QuorumWeight()); err != nil {
		return chain.BlobRecord{}, fmt.Errorf("certify %s: %w", id, err)
	}
	if err := l.checkConfirmation(&o.rec, cert.SerializedMessage); err != nil {
		return chain.BlobRecord{}, fmt.Errorf("certify %s: %w", id, err)
	}
	e := l.st.newEntry(opCertify, l.now())
	e.ObjectID = id
	e.Epoch = l.st.epoch
	e.Event = l.st.newEvent(e, chain.EventCertified)
	e.Event.BlobID = o.rec.BlobID
	e.Event.ObjectID = id
	e.Event.EndEpoch = o.rec.EndEpoch
	e.Event.Deletable = o.rec.Deletable
	if err := l.commit(e); err != nil {
		return chain.BlobRecord{}, fmt.Errorf("certify %s: %w", id, err)
	}
	return o.rec.Clone(), nil
}

func (l *Ledger) checkConfirmation(rec *chain.BlobRecord, msg []byte) error {
	if err := l.checkMessageEpoch(msg); err != nil {
		return err
	}
	conf, err := chain.ParseStorageConfirmation(msg)
	if err != nil {
		return err
	}
	if conf.BlobID != rec.BlobID {
		return fmt.Errorf("%w: confirmation is for blob %s, the object holds %s", chain.ErrInvalidMessage, conf.BlobID, rec.BlobID)
	}
	if rec.Certified() {
		return fmt.Errorf("%w: in epoch %d", chain.ErrAlreadyCertified, *rec.CertifiedEpoch)
	}
	if rec.Expired(l.st.epoch) {
		return fmt.Errorf("%w: end epoch %d, current %d", chain.ErrExpired, rec.EndEpoch, l.st.epoch)
	}
	if want := rec.Persistence(); conf.Persistence != want {
		return fmt.Errorf("%w: confirmation is %s, the object is %s", chain.ErrInvalidMessage, conf.Persistence, want)
	}
	return nil
}

// checkMessageEpoch checks the header of a certified message as the
// contract's new_certified_message does: version, app ID, then epoch.
func (l *Ledger) checkMessageEpoch(msg []byte) error {
	h, _, err := bls.ParseMessage(msg)
	if err != nil {
		return fmt.Errorf("%w: %w", chain.ErrInvalidMessage, err)
	}
	if chain.Epoch(h.Epoch) != l.st.epoch {
		return fmt.Errorf("%w: message of epoch %d, current epoch %d", chain.ErrEpochMismatch, h.Epoch, l.st.epoch)
	}
	return nil
}

// Extend adds epochs to the end epoch of a certified, unexpired Blob object,
// as Walrus's extend_blob: epochs > 0 and the new end epoch at most
// MaxEpochsAhead after the current one. It emits a certified event marked as
// an extension.
func (l *Ledger) Extend(ctx context.Context, id chain.ObjectID, epochs uint32) (chain.BlobRecord, error) {
	if err := l.lock(ctx); err != nil {
		return chain.BlobRecord{}, err
	}
	defer l.mu.Unlock()
	o, err := l.object(id)
	if err != nil {
		return chain.BlobRecord{}, err
	}
	if !o.rec.Certified() {
		return chain.BlobRecord{}, fmt.Errorf("extend %s: %w", id, chain.ErrNotCertified)
	}
	if o.rec.Expired(l.st.epoch) {
		return chain.BlobRecord{}, fmt.Errorf("extend %s: %w: end epoch %d, current %d", id, chain.ErrExpired, o.rec.EndEpoch, l.st.epoch)
	}
	if epochs == 0 {
		return chain.BlobRecord{}, fmt.Errorf("extend %s: %w: by zero epochs", id, chain.ErrInvalidEpochs)
	}
	end := uint64(o.rec.EndEpoch) + uint64(epochs)
	if end > uint64(l.st.epoch)+uint64(l.cfg.MaxEpochsAhead) {
		return chain.BlobRecord{}, fmt.Errorf("extend %s: %w: end epoch %d is more than %d epochs after %d",
			id, chain.ErrInvalidEpochs, end, l.cfg.MaxEpochsAhead, l.st.epoch)
	}
	e := l.st.newEntry(opExtend, l.now())
	e.ObjectID = id
	e.EndEpoch = chain.Epoch(end)
	e.Event = l.st.newEvent(e, chain.EventCertified)
	e.Event.Epoch = *o.rec.CertifiedEpoch
	e.Event.BlobID = o.rec.BlobID
	e.Event.ObjectID = id
	e.Event.EndEpoch = e.EndEpoch
	e.Event.Deletable = o.rec.Deletable
	e.Event.IsExtension = true
	if err := l.commit(e); err != nil {
		return chain.BlobRecord{}, fmt.Errorf("extend %s: %w", id, err)
	}
	return o.rec.Clone(), nil
}

// Delete deletes a deletable, unexpired Blob object, as Walrus's
// delete_blob. Its record stays readable with Deleted set and no attributes.
func (l *Ledger) Delete(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error) {
	if err := l.lock(ctx); err != nil {
		return chain.BlobRecord{}, err
	}
	defer l.mu.Unlock()
	o, err := l.object(id)
	if err != nil {
		return chain.BlobRecord{}, err
	}
	if !o.rec.Deletable {
		return chain.BlobRecord{}, fmt.Errorf("delete %s: %w", id, chain.ErrNotDeletable)
	}
	if o.rec.Expired(l.st.epoch) {
		return chain.BlobRecord{}, fmt.Errorf("delete %s: %w: end epoch %d, current %d", id, chain.ErrExpired, o.rec.EndEpoch, l.st.epoch)
	}
	e := l.st.newEntry(opDelete, l.now())
	e.ObjectID = id
	e.Event = l.st.newEvent(e, chain.EventDeleted)
	e.Event.BlobID = o.rec.BlobID
	e.Event.ObjectID = id
	e.Event.EndEpoch = o.rec.EndEpoch
	e.Event.Deletable = true
	e.Event.WasCertified = o.rec.Certified()
	if err := l.commit(e); err != nil {
		return chain.BlobRecord{}, fmt.Errorf("delete %s: %w", id, err)
	}
	return o.rec.Clone(), nil
}

// SetAttribute sets an attribute (key/value metadata) of a Blob object,
// replacing any value the key had. Keys are non-empty, at most
// MaxAttributeKeyLen bytes; values at most MaxAttributeValueLen.
func (l *Ledger) SetAttribute(ctx context.Context, id chain.ObjectID, key, value string) error {
	if key == "" || len(key) > MaxAttributeKeyLen || len(value) > MaxAttributeValueLen {
		return fmt.Errorf("%w: attribute key of %d bytes (1 to %d) and value of %d bytes (at most %d)",
			chain.ErrInvalidArgument, len(key), MaxAttributeKeyLen, len(value), MaxAttributeValueLen)
	}
	if err := l.lock(ctx); err != nil {
		return err
	}
	defer l.mu.Unlock()
	if _, err := l.object(id); err != nil {
		return err
	}
	e := l.st.newEntry(opSetAttribute, l.now())
	e.ObjectID, e.Key, e.Value = id, key, value
	if err := l.commit(e); err != nil {
		return fmt.Errorf("set attribute of %s: %w", id, err)
	}
	return nil
}

// RemoveAttribute removes an attribute of a Blob object;
// chain.ErrAttributeNotFound if it is not set.
func (l *Ledger) RemoveAttribute(ctx context.Context, id chain.ObjectID, key string) error {
	if err := l.lock(ctx); err != nil {
		return err
	}
	defer l.mu.Unlock()
	o, err := l.object(id)
	if err != nil {
		return err
	}
	if _, ok := o.rec.Attributes[key]; !ok {
		return fmt.Errorf("%w: %q on %s", chain.ErrAttributeNotFound, key, id)
	}
	e := l.st.newEntry(opRemoveAttribute, l.now())
	e.ObjectID, e.Key = id, key
	if err := l.commit(e); err != nil {
		return fmt.Errorf("remove attribute of %s: %w", id, err)
	}
	return nil
}

// InvalidateBlobID marks a blob ID invalid with a certificate over an
// invalid-blob-ID message of the current epoch, signed by nodes holding at
// least the validity threshold (f+1) of shards. It returns the invalid event;
// a blob ID already invalid keeps, and returns, its first event.
func (l *Ledger) InvalidateBlobID(ctx context.Context, cert chain.Certificate) (chain.Event, error) {
	if err := l.lock(ctx); err != nil {
		return chain.Event{}, err
	}
	defer l.mu.Unlock()
	committee := l.st.committee()
	if _, err := committee.VerifyCertificate(cert, committee.ValidityWeight()); err != nil {
		return chain.Event{}, fmt.Errorf("invalidate blob ID: %w", err)
	}
	if err := l.checkMessageEpoch(cert.SerializedMessage); err != nil {
		return chain.Event{}, fmt.Errorf("invalidate blob ID: %w", err)
	}
	msg, err := chain.ParseInvalidBlobIDMessage(cert.SerializedMessage)
	if err != nil {
		return chain.Event{}, fmt.Errorf("invalidate blob ID: %w", err)
	}
	if id, done := l.st.invalid[msg.BlobID]; done {
		for _, ev := range l.st.events {
			if ev.ID == id {
				return ev, nil
			}
		}
	}
	e := l.st.newEntry(opInvalidate, l.now())
	e.BlobID = msg.BlobID
	e.Event = l.st.newEvent(e, chain.EventInvalid)
	e.Event.BlobID = msg.BlobID
	if err := l.commit(e); err != nil {
		return chain.Event{}, fmt.Errorf("invalidate blob ID %s: %w", msg.BlobID, err)
	}
	return *e.Event, nil
}
