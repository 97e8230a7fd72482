package chaintest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

func (s *suite) testRegister(t *testing.T) {
	e := s.env(t)
	info, err := e.b.SystemInfo(e.ctx)
	must(t, err)
	if info.NShards != 10 || info.MaxEpochsAhead == 0 || info.Epoch != e.epoch() {
		t.Fatalf("system info %+v", info)
	}
	cur := info.Epoch
	maxEnd := cur + chain.Epoch(info.MaxEpochsAhead)
	good := Blob("good", 1000, 10, cur+1, false)
	mod := func(f func(r *chain.RegisterRequest)) chain.RegisterRequest {
		r := good
		f(&r)
		return r
	}
	tests := []struct {
		name string
		req  chain.RegisterRequest
		want error
	}{
		{"encoding 0", mod(func(r *chain.RegisterRequest) { r.EncodingType = 0 }), chain.ErrInvalidEncoding},
		{"encoding 2", mod(func(r *chain.RegisterRequest) { r.EncodingType = 2 }), chain.ErrInvalidEncoding},
		{"end epoch is current", mod(func(r *chain.RegisterRequest) { r.EndEpoch = cur }), chain.ErrInvalidEpochs},
		{"end epoch in the past", mod(func(r *chain.RegisterRequest) { r.EndEpoch = 0 }), chain.ErrInvalidEpochs},
		{"too far ahead", mod(func(r *chain.RegisterRequest) { r.EndEpoch = maxEnd + 1 }), chain.ErrInvalidEpochs},
		{"encoded size too small", mod(func(r *chain.RegisterRequest) { r.EncodedSize-- }), chain.ErrInvalidSize},
		{"too large for the shards", Blob("huge", chain.MaxBlobSize(10), 10, cur+1, false), nil},
		{"blob ID of other contents", mod(func(r *chain.RegisterRequest) { r.BlobID[0] ^= 1 }), chain.ErrInvalidBlobID},
		{"size not committed to", mod(func(r *chain.RegisterRequest) { r.UnencodedSize++ }), chain.ErrInvalidBlobID},
		{"root not committed to", mod(func(r *chain.RegisterRequest) { r.RootHash[0] ^= 1 }), chain.ErrInvalidBlobID},
	}
	huge := Blob("huge", chain.MaxBlobSize(10), 10, cur+1, false)
	huge.UnencodedSize++
	tests = append(tests, struct {
		name string
		req  chain.RegisterRequest
		want error
	}{"more than the shards hold", huge, chain.ErrInvalidSize})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := e.b.Register(e.ctx, tt.req)
			if tt.want == nil {
				must(t, err)
				if rec.BlobID != tt.req.BlobID {
					t.Fatalf("registered %s, want %s", rec.BlobID, tt.req.BlobID)
				}
				return
			}
			wantErr(t, err, tt.want)
		})
	}

	for _, end := range []chain.Epoch{cur + 1, maxEnd} {
		req := Blob("ok", 0, 10, end, end == maxEnd)
		rec, err := e.b.Register(e.ctx, req)
		must(t, err)
		if rec.ObjectID.IsZero() || rec.RegisterEvent.IsZero() || rec.StatusEvent != rec.RegisterEvent {
			t.Fatalf("record lacks IDs: %+v", rec)
		}
		if rec.RegisteredEpoch != cur || rec.EndEpoch != end || rec.Deletable != req.Deletable ||
			rec.Certified() || rec.Deleted || rec.EncodedSize != req.EncodedSize || rec.UnencodedSize != 0 {
			t.Fatalf("record %+v for %+v", rec, req)
		}
		got, err := e.b.Blob(e.ctx, rec.ObjectID)
		must(t, err)
		if got.ObjectID != rec.ObjectID || got.RegisterEvent != rec.RegisterEvent {
			t.Fatalf("Blob = %+v, want %+v", got, rec)
		}
	}
	objs, err := e.b.BlobObjects(e.ctx, Blob("ok", 0, 10, 0, false).BlobID)
	must(t, err)
	if len(objs) != 2 || objs[0].ObjectID == objs[1].ObjectID {
		t.Fatalf("two registrations of one blob ID gave %d objects", len(objs))
	}
	_, err = e.b.Blob(e.ctx, chain.ObjectID{1})
	wantErr(t, err, chain.ErrBlobNotFound)
}

func (s *suite) testCertify(t *testing.T) {
	e := s.env(t)
	c := e.committee()
	cur := e.epoch()
	perm := e.register("perm", 5, false)
	del := e.register("del", 5, true)
	other := e.register("other", 5, false)
	q := Quorum(c) // nodes 0 and 1: 7 shards of 10
	msg := Confirmation(perm, cur)
	cert := func(m []byte, signers ...uint16) chain.Certificate { return e.net.Certificate(t, c, m, signers...) }

	wrongKey := cert(msg, q...)
	stranger := NodeKey(99)
	wrongKey.Signature, _ = bls.Aggregate([]bls.Signature{e.net.Keys[0].Sign(msg), stranger.Sign(msg)})
	tampered := cert(msg, q...)
	tampered.SerializedMessage = bytes.Clone(msg)
	tampered.SerializedMessage[bls.HeaderSize] ^= 1
	withMessage := func(f func(m []byte)) []byte { m := bytes.Clone(msg); f(m); return m }
	permanentForDel := chain.StorageConfirmation{Epoch: cur, BlobID: del.BlobID, Persistence: chain.PersistencePermanent()}.Bytes()
	otherObject := chain.StorageConfirmation{Epoch: cur, BlobID: del.BlobID, Persistence: chain.PersistenceDeletable(other.ObjectID)}.Bytes()
	deletableForPerm := chain.StorageConfirmation{Epoch: cur, BlobID: perm.BlobID, Persistence: chain.PersistenceDeletable(perm.ObjectID)}.Bytes()

	tests := []struct {
		name string
		obj  chain.ObjectID
		cert chain.Certificate
		want error
	}{
		{"wrong key", perm.ObjectID, wrongKey, chain.ErrInvalidSignature},
		{"signer claimed but absent", perm.ObjectID, func() chain.Certificate { x := cert(msg, 0, 1); x.Signers = []uint16{0, 1, 2}; return x }(), chain.ErrInvalidSignature},
		{"too few signers", perm.ObjectID, cert(msg, 1, 2, 3), chain.ErrInsufficientSigners},
		{"one node", perm.ObjectID, cert(msg, 0), chain.ErrInsufficientSigners},
		{"no signers", perm.ObjectID, chain.Certificate{SerializedMessage: msg, Signature: e.net.Keys[0].Sign(msg)}, chain.ErrInsufficientSigners},
		{"duplicate signers", perm.ObjectID, cert(msg, 0, 0, 1), chain.ErrInvalidSigners},
		{"duplicate signer to reach quorum", perm.ObjectID, cert(msg, 1, 1, 1), chain.ErrInvalidSigners},
		{"signer out of range", perm.ObjectID, cert(msg, 0, 1, 4), chain.ErrInvalidSigners},
		{"tampered message", perm.ObjectID, tampered, chain.ErrInvalidSignature},
		{"replayed for another blob", perm.ObjectID, cert(Confirmation(other, cur), q...), chain.ErrInvalidMessage},
		{"replayed from an earlier epoch", perm.ObjectID, cert(Confirmation(perm, cur-1), q...), chain.ErrEpochMismatch},
		{"made for a later epoch", perm.ObjectID, cert(Confirmation(perm, cur+1), q...), chain.ErrEpochMismatch},
		{"permanent message, deletable object", del.ObjectID, cert(permanentForDel, q...), chain.ErrInvalidMessage},
		{"deletable message naming another object", del.ObjectID, cert(otherObject, q...), chain.ErrInvalidMessage},
		{"deletable message, permanent object", perm.ObjectID, cert(deletableForPerm, q...), chain.ErrInvalidMessage},
		{"invalid-blob-ID intent", perm.ObjectID, cert(InvalidBlobID(perm.BlobID, cur), q...), chain.ErrInvalidMessage},
		{"intent version 1", perm.ObjectID, cert(withMessage(func(m []byte) { m[1] = 1 }), q...), chain.ErrInvalidMessage},
		{"app ID 4", perm.ObjectID, cert(withMessage(func(m []byte) { m[2] = 4 }), q...), chain.ErrInvalidMessage},
		{"truncated message", perm.ObjectID, cert(msg[:20], q...), chain.ErrInvalidMessage},
		{"unknown persistence type", perm.ObjectID, cert(withMessage(func(m []byte) { m[len(m)-1] = 7 }), q...), chain.ErrInvalidMessage},
		{"unknown object", chain.ObjectID{7}, cert(msg, q...), chain.ErrBlobNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.b.Certify(e.ctx, tt.obj, tt.cert)
			wantErr(t, err, tt.want)
		})
	}
	if st := e.status(perm.BlobID); st.IsCertified {
		t.Fatal("a refused certificate certified the blob")
	}

	got, err := e.b.Certify(e.ctx, perm.ObjectID, cert(msg, 1, 0)) // any order
	must(t, err)
	if !got.Certified() || *got.CertifiedEpoch != cur || got.CertifyEvent.IsZero() || got.StatusEvent != got.CertifyEvent {
		t.Fatalf("certified record %+v", got)
	}
	all, err := e.b.Certify(e.ctx, del.ObjectID, cert(Confirmation(del, cur), 0, 1, 2, 3))
	must(t, err)
	if !all.Certified() {
		t.Fatal("deletable not certified")
	}
	_, err = e.b.Certify(e.ctx, perm.ObjectID, cert(msg, q...))
	wantErr(t, err, chain.ErrAlreadyCertified)

	st := e.status(perm.BlobID)
	if st.Kind != chain.StatusPermanent || !st.IsCertified || st.StatusEvent != got.CertifyEvent ||
		st.InitialCertifiedEpoch == nil || *st.InitialCertifiedEpoch != cur {
		t.Fatalf("status after certification: %+v", st)
	}
}

func (s *suite) testReplayAcrossEpochs(t *testing.T) {
	e := s.env(t)
	rec := e.register("replay", 5, false)
	c := e.committee()
	old := e.net.Certificate(t, c, Confirmation(rec, e.epoch()), Quorum(c)...)
	e.advance()
	_, err := e.b.Certify(e.ctx, rec.ObjectID, old)
	wantErr(t, err, chain.ErrEpochMismatch)
	e.certify(rec)
}

func (s *suite) testExpiry(t *testing.T) {
	e := s.env(t)
	cur := e.epoch()
	short := e.register("short", 1, false)
	shortDel := e.register("short-del", 1, true)
	long := e.certify(e.register("long", 2, false))
	if st := e.status(short.BlobID); st.Kind != chain.StatusPermanent || st.EndEpoch != cur+1 {
		t.Fatalf("before expiry: %+v", st)
	}

	e.advance() // cur+1: short ones expired
	for _, id := range []codec.BlobID{short.BlobID, shortDel.BlobID} {
		if st := e.status(id); st.Kind != chain.StatusNonexistent {
			t.Fatalf("expired blob has status %+v", st)
		}
	}
	c := e.committee()
	_, err := e.b.Certify(e.ctx, short.ObjectID, e.net.Certificate(t, c, Confirmation(short, cur+1), Quorum(c)...))
	wantErr(t, err, chain.ErrExpired)
	_, err = e.b.Delete(e.ctx, shortDel.ObjectID)
	wantErr(t, err, chain.ErrExpired)
	_, err = e.b.Extend(e.ctx, short.ObjectID, 1)
	wantErr(t, err, chain.ErrNotCertified)
	rec, err := e.b.Blob(e.ctx, short.ObjectID)
	must(t, err)
	if !rec.Expired(cur+1) || rec.Deleted {
		t.Fatalf("expired record %+v", rec)
	}
	if st := e.status(long.BlobID); st.Kind != chain.StatusPermanent || !st.IsCertified {
		t.Fatalf("unexpired certified blob: %+v", st)
	}

	e.advance() // cur+2: long expired
	if st := e.status(long.BlobID); st.Kind != chain.StatusNonexistent {
		t.Fatalf("expired certified blob: %+v", st)
	}
	_, err = e.b.Extend(e.ctx, long.ObjectID, 1)
	wantErr(t, err, chain.ErrExpired)
}

func (s *suite) testStatus(t *testing.T) {
	e := s.env(t)
	cur := e.epoch()
	if st := e.status(codec.BlobID{9}); st.Kind != chain.StatusNonexistent {
		t.Fatalf("unknown blob: %+v", st)
	}
	req := Blob("shared", 1000, 10, cur+3, true)
	d1, err := e.b.Register(e.ctx, req)
	must(t, err)
	d2, err := e.b.Register(e.ctx, req)
	must(t, err)
	e.certify(d1)
	st := e.status(req.BlobID)
	if st.Kind != chain.StatusDeletable || st.DeletableCounts != (chain.DeletableCounts{Total: 2, Certified: 1}) ||
		st.InitialCertifiedEpoch == nil || *st.InitialCertifiedEpoch != cur {
		t.Fatalf("two deletables, one certified: %+v", st)
	}

	req.Deletable, req.EndEpoch = false, cur+2
	p, err := e.b.Register(e.ctx, req)
	must(t, err)
	st = e.status(req.BlobID)
	if st.Kind != chain.StatusPermanent || st.IsCertified || st.EndEpoch != cur+2 || st.StatusEvent != p.RegisterEvent ||
		st.DeletableCounts.Total != 2 {
		t.Fatalf("permanent takes precedence: %+v", st)
	}
	p = e.certify(p)
	st = e.status(req.BlobID)
	if !st.IsCertified || st.StatusEvent != p.CertifyEvent {
		t.Fatalf("certified permanent: %+v", st)
	}

	_, err = e.b.Delete(e.ctx, d2.ObjectID)
	must(t, err)
	if st = e.status(req.BlobID); st.DeletableCounts != (chain.DeletableCounts{Total: 1, Certified: 1}) {
		t.Fatalf("after deleting one: %+v", st)
	}
	e.advance()
	e.advance() // cur+2: the permanent object expired, the deletable lives on
	st = e.status(req.BlobID)
	if st.Kind != chain.StatusDeletable || st.DeletableCounts != (chain.DeletableCounts{Total: 1, Certified: 1}) {
		t.Fatalf("after the permanent expired: %+v", st)
	}
}

func (s *suite) testExtend(t *testing.T) {
	e := s.env(t)
	cur := e.epoch()
	info, err := e.b.SystemInfo(e.ctx)
	must(t, err)
	rec := e.register("extend", 2, false)
	_, err = e.b.Extend(e.ctx, rec.ObjectID, 1)
	wantErr(t, err, chain.ErrNotCertified)
	rec = e.certify(rec)
	_, err = e.b.Extend(e.ctx, rec.ObjectID, 0)
	wantErr(t, err, chain.ErrInvalidEpochs)
	_, err = e.b.Extend(e.ctx, rec.ObjectID, info.MaxEpochsAhead-1)
	wantErr(t, err, chain.ErrInvalidEpochs)
	_, err = e.b.Extend(e.ctx, chain.ObjectID{5}, 1)
	wantErr(t, err, chain.ErrBlobNotFound)

	ext, err := e.b.Extend(e.ctx, rec.ObjectID, 3)
	must(t, err)
	if ext.EndEpoch != cur+5 || ext.StatusEvent == rec.StatusEvent || ext.CertifyEvent != rec.CertifyEvent {
		t.Fatalf("extended record %+v (was %+v)", ext, rec)
	}
	st := e.status(rec.BlobID)
	if st.EndEpoch != cur+5 || st.StatusEvent != ext.StatusEvent {
		t.Fatalf("status after extension %+v", st)
	}
	events, err := e.b.Events(e.ctx, 0, 0)
	must(t, err)
	last := events[len(events)-1]
	if last.Kind != chain.EventCertified || !last.IsExtension || last.EndEpoch != cur+5 || last.Epoch != cur || last.ID != ext.StatusEvent {
		t.Fatalf("extension event %+v", last)
	}
	// Now ends at cur+5: cur+MaxEpochsAhead is the furthest it may go.
	_, err = e.b.Extend(e.ctx, rec.ObjectID, info.MaxEpochsAhead-4)
	wantErr(t, err, chain.ErrInvalidEpochs)
	ext, err = e.b.Extend(e.ctx, rec.ObjectID, info.MaxEpochsAhead-5)
	must(t, err)
	if ext.EndEpoch != cur+chain.Epoch(info.MaxEpochsAhead) {
		t.Fatalf("extended to %d, want %d", ext.EndEpoch, cur+chain.Epoch(info.MaxEpochsAhead))
	}
}

func (s *suite) testDelete(t *testing.T) {
	e := s.env(t)
	perm := e.register("perm", 3, false)
	_, err := e.b.Delete(e.ctx, perm.ObjectID)
	wantErr(t, err, chain.ErrNotDeletable)
	del := e.certify(e.register("del", 3, true))
	must(t, e.b.SetAttribute(e.ctx, del.ObjectID, "k", "v"))
	got, err := e.b.Delete(e.ctx, del.ObjectID)
	must(t, err)
	if !got.Deleted || len(got.Attributes) != 0 {
		t.Fatalf("deleted record %+v", got)
	}
	_, err = e.b.Delete(e.ctx, del.ObjectID)
	wantErr(t, err, chain.ErrNotRegistered)
	c := e.committee()
	_, err = e.b.Certify(e.ctx, del.ObjectID, e.net.Certificate(t, c, Confirmation(del, e.epoch()), Quorum(c)...))
	wantErr(t, err, chain.ErrNotRegistered)
	_, err = e.b.Extend(e.ctx, del.ObjectID, 1)
	wantErr(t, err, chain.ErrNotRegistered)
	_, err = e.b.Delete(e.ctx, chain.ObjectID{3})
	wantErr(t, err, chain.ErrBlobNotFound)
	if st := e.status(del.BlobID); st.Kind != chain.StatusNonexistent {
		t.Fatalf("status after delete %+v", st)
	}
	events, err := e.b.Events(e.ctx, 0, 0)
	must(t, err)
	last := events[len(events)-1]
	if last.Kind != chain.EventDeleted || !last.WasCertified || last.ObjectID != del.ObjectID || last.BlobID != del.BlobID {
		t.Fatalf("delete event %+v", last)
	}
}

func (s *suite) testAttributes(t *testing.T) {
	e := s.env(t)
	rec := e.register("attrs", 3, true)
	id := rec.ObjectID
	must(t, e.b.SetAttribute(e.ctx, id, "content-type", "text/plain"))
	must(t, e.b.SetAttribute(e.ctx, id, "name", "a"))
	must(t, e.b.SetAttribute(e.ctx, id, "name", "b"))
	got, err := e.b.Blob(e.ctx, id)
	must(t, err)
	if len(got.Attributes) != 2 || got.Attributes["name"] != "b" || got.Attributes["content-type"] != "text/plain" {
		t.Fatalf("attributes %v", got.Attributes)
	}
	must(t, e.b.RemoveAttribute(e.ctx, id, "name"))
	wantErr(t, e.b.RemoveAttribute(e.ctx, id, "name"), chain.ErrAttributeNotFound)
	wantErr(t, e.b.SetAttribute(e.ctx, id, "", "x"), chain.ErrInvalidArgument)
	wantErr(t, e.b.SetAttribute(e.ctx, chain.ObjectID{4}, "k", "v"), chain.ErrBlobNotFound)
	wantErr(t, e.b.RemoveAttribute(e.ctx, chain.ObjectID{4}, "k"), chain.ErrBlobNotFound)
	got, err = e.b.Blob(e.ctx, id)
	must(t, err)
	if len(got.Attributes) != 1 || got.Attributes["content-type"] != "text/plain" {
		t.Fatalf("attributes after removal %v", got.Attributes)
	}
	_, err = e.b.Delete(e.ctx, id)
	must(t, err)
	wantErr(t, e.b.SetAttribute(e.ctx, id, "k", "v"), chain.ErrNotRegistered)
}

func (s *suite) testInvalidate(t *testing.T) {
	e := s.env(t)
	cur := e.epoch()
	rec := e.certify(e.register("bad", 3, false))
	c := e.committee()
	msg := InvalidBlobID(rec.BlobID, cur)
	_, err := e.b.InvalidateBlobID(e.ctx, e.net.Certificate(t, c, msg, 1)) // 3 shards < f+1 = 4
	wantErr(t, err, chain.ErrInsufficientSigners)
	_, err = e.b.InvalidateBlobID(e.ctx, e.net.Certificate(t, c, InvalidBlobID(rec.BlobID, cur+1), 0))
	wantErr(t, err, chain.ErrEpochMismatch)
	_, err = e.b.InvalidateBlobID(e.ctx, e.net.Certificate(t, c, Confirmation(rec, cur), 0))
	wantErr(t, err, chain.ErrInvalidMessage)
	forged := e.net.Certificate(t, c, msg, 0)
	forged.Signers = []uint16{1, 2}
	_, err = e.b.InvalidateBlobID(e.ctx, forged)
	wantErr(t, err, chain.ErrInvalidSignature)

	ev, err := e.b.InvalidateBlobID(e.ctx, e.net.Certificate(t, c, msg, 0)) // 4 shards = f+1
	must(t, err)
	if ev.Kind != chain.EventInvalid || ev.BlobID != rec.BlobID || ev.Epoch != cur {
		t.Fatalf("invalid event %+v", ev)
	}
	st := e.status(rec.BlobID)
	if st.Kind != chain.StatusInvalid || st.Event != ev.ID {
		t.Fatalf("status %+v", st)
	}
	again, err := e.b.InvalidateBlobID(e.ctx, e.net.Certificate(t, c, msg, 0, 1))
	must(t, err)
	if again.ID != ev.ID {
		t.Fatalf("second invalidation gave a new event %+v", again)
	}
}

func (s *suite) testEvents(t *testing.T) {
	e := s.env(t)
	events, err := e.b.Events(e.ctx, 0, 0)
	must(t, err)
	if len(events) != 1 || events[0].Kind != chain.EventEpochChange || events[0].Cursor != 0 || events[0].Epoch != e.epoch() {
		t.Fatalf("genesis events %+v", events)
	}

	type result struct {
		events []chain.Event
		err    error
	}
	waited := make(chan result, 1)
	go func() {
		evs, err := e.b.WaitEvents(e.ctx, 1, 10)
		waited <- result{evs, err}
	}()
	rec := e.register("events", 3, true)
	r := <-waited
	must(t, r.err)
	if len(r.events) == 0 || r.events[0].Cursor != 1 || r.events[0].Kind != chain.EventRegistered {
		t.Fatalf("woken with %+v", r.events)
	}
	reg := r.events[0]
	if reg.ID != rec.RegisterEvent || reg.ObjectID != rec.ObjectID || reg.BlobID != rec.BlobID ||
		reg.EndEpoch != rec.EndEpoch || !reg.Deletable || reg.UnencodedSize != 1000 || reg.EncodingType != chain.EncodingRS2 {
		t.Fatalf("registered event %+v for %+v", reg, rec)
	}

	e.certify(rec)
	next := e.advance()
	_, err = e.b.Delete(e.ctx, rec.ObjectID)
	must(t, err)
	events, err = e.b.Events(e.ctx, 0, 0)
	must(t, err)
	kinds := []chain.EventKind{chain.EventEpochChange, chain.EventRegistered, chain.EventCertified, chain.EventEpochChange, chain.EventDeleted}
	if len(events) != len(kinds) {
		t.Fatalf("%d events, want %d: %+v", len(events), len(kinds), events)
	}
	ids := map[chain.EventID]bool{}
	for i, ev := range events {
		if ev.Cursor != uint64(i) || ev.Kind != kinds[i] || ids[ev.ID] {
			t.Fatalf("event %d: %+v", i, ev)
		}
		ids[ev.ID] = true
	}
	if events[3].Epoch != next || events[4].Epoch != next {
		t.Fatalf("epochs of events %+v", events)
	}

	page, err := e.b.Events(e.ctx, 2, 2)
	must(t, err)
	if len(page) != 2 || page[0].Cursor != 2 || page[1].Cursor != 3 {
		t.Fatalf("page %+v", page)
	}
	none, err := e.b.Events(e.ctx, 100, 0)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("events past the end %+v", none)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	if _, err := e.b.WaitEvents(ctx, 100, 1); err == nil {
		t.Fatal("WaitEvents with a cancelled context returned no error")
	}

	// Follow resumes from a cursor and stops when the handler fails.
	stop := errors.New("stop")
	seen := 0
	cursor, err := chain.Follow(e.ctx, e.b, 1, 2, func(_ context.Context, ev chain.Event) error {
		seen++
		if ev.Cursor == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || cursor != 3 || seen != 3 {
		t.Fatalf("Follow = %d, %v after %d events", cursor, err, seen)
	}
}

func (s *suite) testNextCommittee(t *testing.T) {
	e := s.env(t)
	cur := e.epoch()
	old := e.committee()
	// Nodes 1..4 take over; node 4 is new. Shards move.
	regs := []chain.NodeRegistration{
		e.net.Register(1, []uint16{0, 1, 2}, cur),
		e.net.Register(2, []uint16{3, 4, 5}, cur),
		e.net.Register(3, []uint16{6, 7}, cur),
		e.net.Register(4, []uint16{8, 9}, cur),
	}
	stale := append([]chain.NodeRegistration(nil), regs...)
	stale[3] = e.net.Register(4, []uint16{8, 9}, cur-1)
	_, err := e.b.SetNextCommittee(e.ctx, stale)
	wantErr(t, err, chain.ErrInvalidCommittee)
	rogue := append([]chain.NodeRegistration(nil), regs...)
	rogue[3].Node.PublicKey = NodeKey(50).PublicKey()
	_, err = e.b.SetNextCommittee(e.ctx, rogue)
	wantErr(t, err, chain.ErrInvalidCommittee)
	_, err = e.b.SetNextCommittee(e.ctx, regs[:3])
	wantErr(t, err, chain.ErrInvalidCommittee) // 8 shards, the system has 10

	next, err := e.b.SetNextCommittee(e.ctx, regs)
	must(t, err)
	if next.Epoch != cur+1 || next.NShards != 10 || len(next.Nodes) != 4 {
		t.Fatalf("next committee %+v", next)
	}
	if got := e.committee(); got.Nodes[0].ID != old.Nodes[0].ID {
		t.Fatal("the next committee took over before the epoch change")
	}
	rec := e.register("handover", 5, false)
	e.advance()
	now := e.committee()
	if now.Epoch != cur+1 || now.Nodes[0].ID != NodeID(1) || now.Nodes[3].ID != NodeID(4) {
		t.Fatalf("committee after the change %+v", now)
	}
	before, err := e.b.Committee(e.ctx, cur)
	must(t, err)
	if before.Epoch != cur || before.Nodes[0].ID != old.Nodes[0].ID {
		t.Fatalf("committee of epoch %d: %+v", cur, before)
	}
	_, err = e.b.Committee(e.ctx, cur+5)
	wantErr(t, err, chain.ErrInvalidEpochs)

	// The old committee's signatures no longer count.
	_, err = e.b.Certify(e.ctx, rec.ObjectID, e.net.Certificate(t, old, Confirmation(rec, cur+1), 0, 1, 2))
	wantErr(t, err, chain.ErrInvalidSignature)
	e.certify(rec)

	// Without a new proposal the committee carries over.
	e.advance()
	if again := e.committee(); again.Epoch != cur+2 || again.Nodes[3].ID != NodeID(4) {
		t.Fatalf("committee did not carry over: %+v", again)
	}
}
