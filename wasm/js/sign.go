//go:build js && wasm

package main

import (
	"encoding/base64"
	"fmt"
	"math"
	"syscall/js"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/wasm/internal/codecop"
)

// What a client that stores a blob itself needs after the codec: the storage
// confirmation every node must sign, a check of one node's signature, and the
// aggregate signature of a certificate. They run package chain's and package
// bls's code, as the publisher does; a page has no other BLS12-381.

// confirmationMessage(epoch, blobId, objectId?) returns the BCS storage
// confirmation for a permanent blob, or for the deletable Blob object
// objectId (0x + 64 hex digits).
func (a *api) confirmationMessage(args []js.Value) (any, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("%w: confirmationMessage(epoch, blobId, objectId?) takes at least 2 arguments", codecop.ErrInvalidArgument)
	}
	if args[0].Type() != js.TypeNumber {
		return nil, fmt.Errorf("%w: epoch must be a number, got %s", codecop.ErrInvalidArgument, args[0].Type())
	}
	e := args[0].Float()
	if e != math.Trunc(e) || e < 0 || e > math.MaxUint32 {
		return nil, fmt.Errorf("%w: epoch %v is not a u32", codecop.ErrInvalidArgument, e)
	}
	if args[1].Type() != js.TypeString {
		return nil, fmt.Errorf("%w: blobId must be a string, got %s", codecop.ErrInvalidArgument, args[1].Type())
	}
	id, err := codec.ParseBlobID(args[1].String())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", codecop.ErrInvalidArgument, err)
	}
	p := chain.PersistencePermanent()
	if len(args) > 2 && !nullish(args[2]) {
		if args[2].Type() != js.TypeString {
			return nil, fmt.Errorf("%w: objectId must be a string, got %s", codecop.ErrInvalidArgument, args[2].Type())
		}
		oid, err := chain.ParseObjectID(args[2].String())
		if err != nil {
			return nil, fmt.Errorf("%w: %w", codecop.ErrInvalidArgument, err)
		}
		p = chain.PersistenceDeletable(oid)
	}
	msg := chain.StorageConfirmation{Epoch: chain.Epoch(e), BlobID: id, Persistence: p}.Bytes()
	return bytesToJS(msg), nil
}

// verifySignature(publicKey, message, signature) resolves to whether
// signature is the BLS12-381 min-pk signature of publicKey over message.
// Keys and signatures are bytes or standard base64, as Walrus's JSON has
// them; a malformed one is an error, a wrong one false.
func (a *api) verifySignature(args []js.Value) (any, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("%w: verifySignature(publicKey, message, signature) takes 3 arguments", codecop.ErrInvalidArgument)
	}
	raw, err := keyBytes("publicKey", args[0])
	if err != nil {
		return nil, err
	}
	pk, err := bls.ParsePublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", codecop.ErrInvalidArgument, err)
	}
	msg, err := bytesArg("message", args[1])
	if err != nil {
		return nil, err
	}
	sig, err := signatureArg("signature", args[2])
	if err != nil {
		return nil, err
	}
	return bls.Verify(pk, copyBytes(msg), sig) == nil, nil
}

// aggregateSignatures(signatures) returns the aggregate (96 bytes) of an
// array of signatures, bytes or base64: a certificate's signature.
func (a *api) aggregateSignatures(args []js.Value) (any, error) {
	if len(args) < 1 || !args[0].InstanceOf(js.Global().Get("Array")) {
		return nil, fmt.Errorf("%w: aggregateSignatures(signatures) takes an array", codecop.ErrInvalidArgument)
	}
	n := args[0].Length()
	if n == 0 {
		return nil, fmt.Errorf("%w: no signatures to aggregate", codecop.ErrInvalidArgument)
	}
	sigs := make([]bls.Signature, n)
	for i := range n {
		s, err := signatureArg(fmt.Sprintf("signatures[%d]", i), args[0].Index(i))
		if err != nil {
			return nil, err
		}
		sigs[i] = s
	}
	agg, err := bls.Aggregate(sigs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", codecop.ErrInvalidArgument, err)
	}
	return bytesToJS(agg[:]), nil
}

func signatureArg(name string, v js.Value) (bls.Signature, error) {
	raw, err := keyBytes(name, v)
	if err != nil {
		return bls.Signature{}, err
	}
	s, err := bls.ParseSignature(raw)
	if err != nil {
		return bls.Signature{}, fmt.Errorf("%w: %s: %w", codecop.ErrInvalidArgument, name, err)
	}
	return s, nil
}

// keyBytes reads a key or signature given as bytes or as standard base64.
func keyBytes(name string, v js.Value) ([]byte, error) {
	if v.Type() == js.TypeString {
		b, err := base64.StdEncoding.DecodeString(v.String())
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not standard base64: %w", codecop.ErrInvalidArgument, name, err)
		}
		return b, nil
	}
	u8, err := bytesArg(name, v)
	if err != nil {
		return nil, err
	}
	return copyBytes(u8), nil
}
