package chain

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// BlobStatusKind names the variants of BlobStatus.
type BlobStatusKind string

// The variants of BlobStatus, as Walrus names them in JSON.
const (
	StatusNonexistent BlobStatusKind = "nonexistent"
	StatusInvalid     BlobStatusKind = "invalid"
	StatusPermanent   BlobStatusKind = "permanent"
	StatusDeletable   BlobStatusKind = "deletable"
)

// DeletableCounts counts the live deletable Blob objects of a blob ID. Its
// JSON fields are snake_case, as in Walrus.
type DeletableCounts struct {
	Total     uint32 `json:"count_deletable_total"`
	Certified uint32 `json:"count_deletable_certified"`
}

// BlobStatus is the status of a blob ID aggregated over all its Blob
// objects, as Walrus's storage nodes report it (GET /v1/blobs/{id}/status):
//
//	"nonexistent"
//	{"invalid": {"event": EventID}}
//	{"permanent": {"endEpoch", "isCertified", "statusEvent", "deletableCounts", "initialCertifiedEpoch"}}
//	{"deletable": {"initialCertifiedEpoch", "deletableCounts"}}
//
// Which fields are meaningful depends on Kind.
type BlobStatus struct {
	Kind BlobStatusKind
	// Event is the event that marked the blob ID invalid (Kind invalid).
	Event EventID
	// EndEpoch, IsCertified and StatusEvent describe the permanent object
	// with the latest end epoch, certified ones first (Kind permanent).
	EndEpoch    Epoch
	IsCertified bool
	StatusEvent EventID
	// DeletableCounts (permanent and deletable).
	DeletableCounts DeletableCounts
	// InitialCertifiedEpoch is the earliest certification epoch among the
	// live certified objects, nil if none (permanent and deletable).
	InitialCertifiedEpoch *Epoch
}

// IsRegistered reports whether some live Blob object exists for the blob ID.
func (s BlobStatus) IsRegistered() bool {
	return s.Kind == StatusPermanent || s.Kind == StatusDeletable
}

// AnyCertified reports whether some live object is certified.
func (s BlobStatus) AnyCertified() bool {
	return s.IsRegistered() && s.InitialCertifiedEpoch != nil
}

type permanentJSON struct {
	EndEpoch              Epoch           `json:"endEpoch"`
	IsCertified           bool            `json:"isCertified"`
	StatusEvent           EventID         `json:"statusEvent"`
	DeletableCounts       DeletableCounts `json:"deletableCounts"`
	InitialCertifiedEpoch *Epoch          `json:"initialCertifiedEpoch"`
}

type deletableJSON struct {
	InitialCertifiedEpoch *Epoch          `json:"initialCertifiedEpoch"`
	DeletableCounts       DeletableCounts `json:"deletableCounts"`
}

type invalidJSON struct {
	Event EventID `json:"event"`
}

// MarshalJSON writes Walrus's externally tagged form.
func (s BlobStatus) MarshalJSON() ([]byte, error) {
	switch s.Kind {
	case StatusNonexistent, "":
		return []byte(`"nonexistent"`), nil
	case StatusInvalid:
		return json.Marshal(map[string]invalidJSON{"invalid": {Event: s.Event}})
	case StatusPermanent:
		return json.Marshal(map[string]permanentJSON{"permanent": {
			EndEpoch:              s.EndEpoch,
			IsCertified:           s.IsCertified,
			StatusEvent:           s.StatusEvent,
			DeletableCounts:       s.DeletableCounts,
			InitialCertifiedEpoch: s.InitialCertifiedEpoch,
		}})
	case StatusDeletable:
		return json.Marshal(map[string]deletableJSON{"deletable": {
			InitialCertifiedEpoch: s.InitialCertifiedEpoch,
			DeletableCounts:       s.DeletableCounts,
		}})
	default:
		return nil, fmt.Errorf("%w: blob status kind %q", ErrInvalidArgument, s.Kind)
	}
}

// UnmarshalJSON reads Walrus's externally tagged form.
func (s *BlobStatus) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var name string
		if err := json.Unmarshal(b, &name); err != nil {
			return err
		}
		if BlobStatusKind(name) != StatusNonexistent {
			return fmt.Errorf("%w: blob status %q", ErrInvalidArgument, name)
		}
		*s = BlobStatus{Kind: StatusNonexistent}
		return nil
	}
	var tagged map[string]json.RawMessage
	if err := json.Unmarshal(b, &tagged); err != nil {
		return err
	}
	if len(tagged) != 1 {
		return fmt.Errorf("%w: blob status object with %d keys, want 1", ErrInvalidArgument, len(tagged))
	}
	for k, v := range tagged {
		switch BlobStatusKind(k) {
		case StatusInvalid:
			var in invalidJSON
			if err := json.Unmarshal(v, &in); err != nil {
				return err
			}
			*s = BlobStatus{Kind: StatusInvalid, Event: in.Event}
		case StatusPermanent:
			var p permanentJSON
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			*s = BlobStatus{
				Kind: StatusPermanent, EndEpoch: p.EndEpoch, IsCertified: p.IsCertified,
				StatusEvent: p.StatusEvent, DeletableCounts: p.DeletableCounts,
				InitialCertifiedEpoch: p.InitialCertifiedEpoch,
			}
		case StatusDeletable:
			var d deletableJSON
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			*s = BlobStatus{
				Kind: StatusDeletable, DeletableCounts: d.DeletableCounts,
				InitialCertifiedEpoch: d.InitialCertifiedEpoch,
			}
		default:
			return fmt.Errorf("%w: blob status %q", ErrInvalidArgument, k)
		}
	}
	return nil
}

// AggregateStatus computes the status of a blob ID in epoch current from all
// its Blob objects and the event that marked it invalid, if any. It follows
// Walrus's storage nodes: invalid wins; then the live certified permanent
// object with the latest end epoch; then the live permanent one with the
// latest end epoch; then, if live deletable objects exist, deletable;
// otherwise nonexistent. Pass records in the order their status events
// happened: among objects with the same end epoch the first one's status
// event is reported, as Walrus keeps the first event that reached an end
// epoch.
func AggregateStatus(current Epoch, records []BlobRecord, invalid *EventID) BlobStatus {
	if invalid != nil {
		return BlobStatus{Kind: StatusInvalid, Event: *invalid}
	}
	var (
		counts       DeletableCounts
		initial      *Epoch
		bestCert     *BlobRecord
		bestRegister *BlobRecord
	)
	better := func(cand, best *BlobRecord) bool { return best == nil || cand.EndEpoch > best.EndEpoch }
	for i := range records {
		r := &records[i]
		if !r.Live(current) {
			continue
		}
		if r.Certified() && (initial == nil || *r.CertifiedEpoch < *initial) {
			e := *r.CertifiedEpoch
			initial = &e
		}
		if r.Deletable {
			counts.Total++
			if r.Certified() {
				counts.Certified++
			}
			continue
		}
		if r.Certified() && better(r, bestCert) {
			bestCert = r
		}
		if better(r, bestRegister) {
			bestRegister = r
		}
	}
	switch {
	case bestCert != nil:
		return BlobStatus{
			Kind: StatusPermanent, EndEpoch: bestCert.EndEpoch, IsCertified: true,
			StatusEvent: bestCert.StatusEvent, DeletableCounts: counts, InitialCertifiedEpoch: initial,
		}
	case bestRegister != nil:
		return BlobStatus{
			Kind: StatusPermanent, EndEpoch: bestRegister.EndEpoch,
			StatusEvent: bestRegister.StatusEvent, DeletableCounts: counts, InitialCertifiedEpoch: initial,
		}
	case counts.Total > 0:
		return BlobStatus{Kind: StatusDeletable, DeletableCounts: counts, InitialCertifiedEpoch: initial}
	default:
		return BlobStatus{Kind: StatusNonexistent}
	}
}
