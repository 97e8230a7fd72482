package chain

import (
	"context"
	"errors"
	"testing"

	"github.com/haulout/haulout/codec"
)

func TestFindCertified(t *testing.T) {
	id := codec.BlobID{1}
	obj := func(b byte, end Epoch, certified, deletable, deleted bool) BlobRecord {
		r := BlobRecord{ObjectID: ObjectID{b}, BlobID: id, EndEpoch: end, Deletable: deletable, Deleted: deleted}
		if certified {
			r.CertifiedEpoch = ep(1)
		}
		return r
	}
	objs := []BlobRecord{
		obj(1, 8, true, true, false),
		obj(2, 12, true, true, false),  // the longest certified deletable one
		obj(3, 20, false, true, false), // not certified
		obj(4, 30, true, true, true),   // deleted
		obj(5, 40, true, false, false), // permanent
	}
	deletable := BlobStatus{Kind: StatusDeletable, DeletableCounts: DeletableCounts{Total: 4, Certified: 3}}
	permanent := BlobStatus{Kind: StatusPermanent, EndEpoch: 10, IsCertified: true, StatusEvent: evt(7),
		DeletableCounts: deletable.DeletableCounts}
	tests := []struct {
		name      string
		st        BlobStatus
		end       Epoch
		deletable bool
		now       Epoch
		wantEvent bool
		wantObj   byte // 0: none
		wantEnd   Epoch
		listed    bool
	}{
		{"nonexistent", BlobStatus{Kind: StatusNonexistent}, 5, true, 2, false, 0, 0, false},
		{"permanent long enough", permanent, 10, false, 2, true, 0, 10, false},
		{"permanent long enough, deletable store", permanent, 10, true, 2, true, 0, 10, false},
		{"permanent too short, permanent store", permanent, 11, false, 2, false, 0, 0, false},
		{"permanent too short, deletable store: an object", permanent, 11, true, 2, false, 2, 12, true},
		{"uncertified permanent", BlobStatus{Kind: StatusPermanent, EndEpoch: 50}, 5, false, 2, false, 0, 0, false},
		{"deletable: the longest object", deletable, 5, true, 2, false, 2, 12, true},
		{"deletable: none long enough", deletable, 13, true, 2, false, 0, 0, true},
		{"deletable: expired by now", deletable, 5, true, 12, false, 0, 0, true},
		{"deletable, permanent store", deletable, 5, false, 2, false, 0, 0, false},
		{"no certified deletable counted", BlobStatus{Kind: StatusDeletable, DeletableCounts: DeletableCounts{Total: 1}}, 5, true, 2, false, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			listed := false
			list := func(_ context.Context, got codec.BlobID) ([]BlobRecord, error) {
				listed = true
				if got != id {
					t.Errorf("listed %s", got)
				}
				return objs, nil
			}
			s, err := FindCertified(context.Background(), list, id, tt.st, tt.end, tt.deletable, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if listed != tt.listed {
				t.Errorf("objects listed: %v, want %v", listed, tt.listed)
			}
			switch {
			case !tt.wantEvent && tt.wantObj == 0:
				if s != nil {
					t.Errorf("got %+v, want nil", s)
				}
			case s == nil:
				t.Fatal("got nil")
			case s.EndEpoch != tt.wantEnd:
				t.Errorf("end epoch %d, want %d", s.EndEpoch, tt.wantEnd)
			case tt.wantEvent && (s.Event == nil || *s.Event != evt(7) || s.Object != nil):
				t.Errorf("got %+v, want the status event", s)
			case tt.wantObj != 0 && (s.Object == nil || *s.Object != (ObjectID{tt.wantObj}) || s.Event != nil):
				t.Errorf("got %+v, want object %d", s, tt.wantObj)
			}
		})
	}

	boom := errors.New("ledger down")
	_, err := FindCertified(context.Background(), func(context.Context, codec.BlobID) ([]BlobRecord, error) { return nil, boom },
		id, deletable, 5, true, 2)
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want it wrapping %v", err, boom)
	}
}
