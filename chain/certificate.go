package chain

import (
	"fmt"

	"github.com/haulout/haulout/bls"
)

// Certificate is a message signed by several committee members: the indices
// of the signers in the committee's Nodes, the BCS message they all signed,
// and the aggregate of their signatures.
type Certificate struct {
	Signers           []uint16      `json:"signers"`
	SerializedMessage []byte        `json:"serializedMessage"`
	Signature         bls.Signature `json:"signature"`
}

// NewCertificate aggregates the signatures sigs[i] of node signers[i] over
// msg into a certificate. It checks nothing about the committee; Committee.
// VerifyCertificate does.
func NewCertificate(signers []uint16, msg []byte, sigs []bls.Signature) (Certificate, error) {
	if len(signers) != len(sigs) {
		return Certificate{}, fmt.Errorf("%w: %d signers for %d signatures", ErrInvalidArgument, len(signers), len(sigs))
	}
	agg, err := bls.Aggregate(sigs)
	if err != nil {
		return Certificate{}, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	return Certificate{
		Signers:           append([]uint16(nil), signers...),
		SerializedMessage: append([]byte(nil), msg...),
		Signature:         agg,
	}, nil
}

// VerifyCertificate checks a certificate against the committee, in the order
// of Walrus's contract: signers must be distinct indices into Nodes
// (ErrInvalidSigners), hold at least minWeight shards between them
// (ErrInsufficientSigners), and the aggregate signature must verify against
// the sum of their keys (ErrInvalidSignature). It returns the signers'
// weight. The message's contents are the caller's to check. Pass
// QuorumWeight for blob certificates, ValidityWeight for invalid-blob ones.
func (c *Committee) VerifyCertificate(cert Certificate, minWeight int) (int, error) {
	w, err := c.Weight(cert.Signers)
	if err != nil {
		return 0, err
	}
	if w < minWeight || len(cert.Signers) == 0 {
		return w, fmt.Errorf("%w: %d shards signed, %d of %d needed", ErrInsufficientSigners, w, minWeight, c.NShards)
	}
	keys := make([]bls.PublicKey, len(cert.Signers))
	for i, s := range cert.Signers {
		keys[i] = c.Nodes[s].PublicKey
	}
	if err := bls.VerifyAggregate(keys, cert.SerializedMessage, cert.Signature); err != nil {
		return w, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	return w, nil
}
