package bls

import (
	"encoding/binary"
	"fmt"
)

// IntentType says what a signed protocol message means. The values are
// Walrus's (crates/walrus-core/src/messages.rs and the Move module
// walrus::messages) and must not change.
type IntentType uint8

// Walrus's intent types.
const (
	IntentProofOfPossession   IntentType = 0
	IntentBlobCertification   IntentType = 1 // storage confirmations and certificates
	IntentInvalidBlobID       IntentType = 2
	IntentSyncShard           IntentType = 3
	IntentDenyListUpdate      IntentType = 4
	IntentDenyListBlobDeleted IntentType = 5
	IntentProtocolVersion     IntentType = 6
)

// The fixed parts of every Walrus intent.
const (
	IntentVersion uint8 = 0
	AppIDStorage  uint8 = 3
	// HeaderSize is the length of intent (3 bytes) plus epoch (4 bytes).
	HeaderSize = 7
)

// Header is the start of every BCS-encoded ProtocolMessage: the intent
// {type, version, app ID} and the epoch the message was made in.
type Header struct {
	Intent  IntentType
	Version uint8
	AppID   uint8
	Epoch   uint32
}

// NewHeader returns the header of a Walrus storage message with the given
// intent, made in epoch.
func NewHeader(intent IntentType, epoch uint32) Header {
	return Header{Intent: intent, Version: IntentVersion, AppID: AppIDStorage, Epoch: epoch}
}

// Append appends the BCS form of h (7 bytes) to dst.
func (h Header) Append(dst []byte) []byte {
	dst = append(dst, byte(h.Intent), h.Version, h.AppID)
	return binary.LittleEndian.AppendUint32(dst, h.Epoch)
}

// ParseMessage splits a BCS-encoded ProtocolMessage into its header and
// contents. Like Walrus's contract, it refuses a version other than 0 or an
// app ID other than 3, and leaves the intent type and the epoch to the caller.
// Errors wrap ErrInvalidMessage.
func ParseMessage(msg []byte) (Header, []byte, error) {
	if len(msg) < HeaderSize {
		return Header{}, nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrInvalidMessage, len(msg), HeaderSize)
	}
	h := Header{
		Intent:  IntentType(msg[0]),
		Version: msg[1],
		AppID:   msg[2],
		Epoch:   binary.LittleEndian.Uint32(msg[3:7]),
	}
	if h.Version != IntentVersion {
		return Header{}, nil, fmt.Errorf("%w: intent version %d, want %d", ErrInvalidMessage, h.Version, IntentVersion)
	}
	if h.AppID != AppIDStorage {
		return Header{}, nil, fmt.Errorf("%w: app ID %d, want %d", ErrInvalidMessage, h.AppID, AppIDStorage)
	}
	return h, msg[HeaderSize:], nil
}
