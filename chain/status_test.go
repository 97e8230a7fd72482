package chain

import (
	"encoding/json"
	"testing"
)

func ep(e Epoch) *Epoch { return &e }

func evt(b byte) EventID { return EventID{TxDigest: Digest{0: b}} }

func TestBlobStatusJSON(t *testing.T) {
	d := evt(1)
	dj, _ := json.Marshal(d)
	tests := []struct {
		name string
		s    BlobStatus
		want string
	}{
		{"nonexistent", BlobStatus{Kind: StatusNonexistent}, `"nonexistent"`},
		{"invalid", BlobStatus{Kind: StatusInvalid, Event: d}, `{"invalid":{"event":` + string(dj) + `}}`},
		{"permanent", BlobStatus{
			Kind: StatusPermanent, EndEpoch: 120, IsCertified: true, StatusEvent: d,
			DeletableCounts: DeletableCounts{Total: 0, Certified: 0}, InitialCertifiedEpoch: ep(97),
		}, `{"permanent":{"endEpoch":120,"isCertified":true,"statusEvent":` + string(dj) +
			`,"deletableCounts":{"count_deletable_total":0,"count_deletable_certified":0},"initialCertifiedEpoch":97}}`},
		{"deletable", BlobStatus{Kind: StatusDeletable, DeletableCounts: DeletableCounts{Total: 2, Certified: 1}},
			`{"deletable":{"initialCertifiedEpoch":null,"deletableCounts":{"count_deletable_total":2,"count_deletable_certified":1}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("\n got %s\nwant %s", b, tt.want)
			}
			var back BlobStatus
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			b2, _ := json.Marshal(back)
			if string(b2) != tt.want {
				t.Fatalf("round trip gave %s", b2)
			}
		})
	}
	var s BlobStatus
	for _, bad := range []string{`"stored"`, `{}`, `{"permanent":{},"deletable":{}}`, `{"other":{}}`, `3`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestAggregateStatus(t *testing.T) {
	const now = 10
	perm := func(end Epoch, certified *Epoch, ev byte) BlobRecord {
		return BlobRecord{EndEpoch: end, CertifiedEpoch: certified, StatusEvent: evt(ev)}
	}
	del := func(end Epoch, certified *Epoch) BlobRecord {
		return BlobRecord{EndEpoch: end, CertifiedEpoch: certified, Deletable: true, StatusEvent: evt(99)}
	}
	deleted := del(20, ep(5))
	deleted.Deleted = true
	inv := evt(50)

	tests := []struct {
		name    string
		records []BlobRecord
		invalid *EventID
		want    BlobStatus
	}{
		{"nothing", nil, nil, BlobStatus{Kind: StatusNonexistent}},
		{"invalid wins", []BlobRecord{perm(20, ep(5), 1)}, &inv, BlobStatus{Kind: StatusInvalid, Event: inv}},
		{"registered permanent", []BlobRecord{perm(20, nil, 1)}, nil,
			BlobStatus{Kind: StatusPermanent, EndEpoch: 20, StatusEvent: evt(1)}},
		{"certified beats later registered", []BlobRecord{perm(30, nil, 1), perm(15, ep(8), 2)}, nil,
			BlobStatus{Kind: StatusPermanent, EndEpoch: 15, IsCertified: true, StatusEvent: evt(2), InitialCertifiedEpoch: ep(8)}},
		{"latest certified end epoch", []BlobRecord{perm(15, ep(8), 1), perm(25, ep(9), 2)}, nil,
			BlobStatus{Kind: StatusPermanent, EndEpoch: 25, IsCertified: true, StatusEvent: evt(2), InitialCertifiedEpoch: ep(8)}},
		{"first of equal end epochs", []BlobRecord{perm(25, ep(9), 1), perm(25, ep(8), 2)}, nil,
			BlobStatus{Kind: StatusPermanent, EndEpoch: 25, IsCertified: true, StatusEvent: evt(1), InitialCertifiedEpoch: ep(8)}},
		{"expired permanent ignored", []BlobRecord{perm(now, ep(3), 1), perm(12, nil, 2)}, nil,
			BlobStatus{Kind: StatusPermanent, EndEpoch: 12, StatusEvent: evt(2)}},
		{"permanent with deletables", []BlobRecord{perm(12, nil, 1), del(20, ep(4)), del(20, nil)}, nil,
			BlobStatus{Kind: StatusPermanent, EndEpoch: 12, StatusEvent: evt(1), DeletableCounts: DeletableCounts{2, 1}, InitialCertifiedEpoch: ep(4)}},
		{"deletable only", []BlobRecord{del(20, ep(6)), del(11, nil), del(now, ep(2)), deleted}, nil,
			BlobStatus{Kind: StatusDeletable, DeletableCounts: DeletableCounts{2, 1}, InitialCertifiedEpoch: ep(6)}},
		{"all expired or deleted", []BlobRecord{del(now, ep(2)), deleted, perm(9, ep(1), 1)}, nil,
			BlobStatus{Kind: StatusNonexistent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := json.Marshal(AggregateStatus(now, tt.records, tt.invalid))
			want, _ := json.Marshal(tt.want)
			if string(got) != string(want) {
				t.Fatalf("\n got %s\nwant %s", got, want)
			}
		})
	}
}
