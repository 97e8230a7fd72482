package bls

import "fmt"

// ProofOfPossessionMessage returns the BCS bytes that a proof of possession
// signs, as Walrus's ProofOfPossessionMsg: the header with intent type 0 and
// epoch, then the 32-byte Sui address of the registering account, then the
// 48-byte public key (a fixed-size array: no length prefix).
func ProofOfPossessionMessage(epoch uint32, address [32]byte, pk PublicKey) []byte {
	b := make([]byte, 0, HeaderSize+len(address)+PublicKeySize)
	b = NewHeader(IntentProofOfPossession, epoch).Append(b)
	b = append(b, address[:]...)
	return append(b, pk[:]...)
}

// ProvePossession signs the proof of possession of k for the account address
// in epoch.
func (k *PrivateKey) ProvePossession(epoch uint32, address [32]byte) Signature {
	return k.Sign(ProofOfPossessionMessage(epoch, address, k.PublicKey()))
}

// VerifyProofOfPossession checks that pop proves possession of the secret of
// pk for address in epoch. Errors wrap ErrInvalidKey or ErrInvalidSignature.
func VerifyProofOfPossession(pk PublicKey, epoch uint32, address [32]byte, pop Signature) error {
	if err := Verify(pk, ProofOfPossessionMessage(epoch, address, pk), pop); err != nil {
		return fmt.Errorf("proof of possession for epoch %d: %w", epoch, err)
	}
	return nil
}
