// Command aesgcm is a haulout plugin (wasm/plugin/abi) that encrypts a blob
// with AES-256-GCM under a key the user supplies, and decrypts it on read.
// Build it for WASI:
//
//	GOOS=wasip1 GOARCH=wasm go build -o aesgcm.wasm ./wasm/plugins/aesgcm
//
// Arguments: key=KEY, 32 bytes as 64 hex digits or as base64 (standard or
// URL-safe, padded or not), in both directions; chunk=BYTES on forward, the
// plaintext per sealed chunk (1024 to 1048576, default 65536). Memory stays
// about two chunks whatever the blob's size.
//
// The stored bytes are a 32-byte header, then the chunks:
//
//	header  "HLAG" | format 1 | chunk size u32 LE | salt (16) | nonce prefix (7)
//	chunk i AES-256-GCM seal of the next chunk-size plaintext bytes (the last
//	        chunk may be shorter, even empty) with the header as additional
//	        data and nonce = prefix | i (u32 big-endian) | 1 if last else 0
//
// under the key HKDF-SHA256(user key, salt, "haulout aesgcm v1"). The fresh
// random salt and prefix of each blob keep nonces from repeating under one
// user key; the counter and last flag in the nonce make any reordering,
// truncation or extension of the chunks fail authentication.
package main

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/haulout/haulout/wasm/plugin/abi"
)

const (
	name    = "aesgcm"
	version = "1.0.0"

	magic        = "HLAG"
	format       = 1
	headerLen    = 32
	saltLen      = 16
	prefixLen    = 7
	defaultChunk = 64 << 10
	minChunk     = 1 << 10
	maxChunk     = 1 << 20
	info         = "haulout aesgcm v1"
)

func main() { abi.Serve(name, version, transform) }

func transform(dir abi.Direction, args abi.Args, in io.Reader, out *abi.Output) error {
	allowed := []string{"key"}
	if dir == abi.Forward {
		allowed = append(allowed, "chunk")
	}
	if err := args.Only(allowed...); err != nil {
		return err
	}
	key, err := parseKey(args["key"])
	if err != nil {
		return err
	}
	if dir == abi.Reverse {
		return decrypt(key, in, out)
	}
	chunk := defaultChunk
	if s, ok := args["chunk"]; ok {
		if chunk, err = strconv.Atoi(s); err != nil || chunk < minChunk || chunk > maxChunk {
			return fmt.Errorf("chunk %q: want %d to %d bytes", s, minChunk, maxChunk)
		}
	}
	if err := encrypt(key, chunk, in, out); err != nil {
		return err
	}
	if err := out.SetAttribute("aesgcm.cipher", "AES-256-GCM"); err != nil {
		return err
	}
	return out.SetAttribute("aesgcm.format", strconv.Itoa(format))
}

// parseKey reads 32 bytes as hex or base64. Errors never repeat the key.
func parseKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("no key: pass key= with 32 bytes as 64 hex digits or base64")
	}
	if len(s) == 64 {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, fmt.Errorf("key of %d characters is not 32 bytes as 64 hex digits or base64", len(s))
}

func newAEAD(key, salt []byte) (cipher.AEAD, error) {
	sub, err := hkdf.Key(sha256.New, key, salt, info, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func nonce(prefix []byte, i uint64, last bool) []byte {
	n := make([]byte, 0, 12)
	n = append(n, prefix...)
	n = binary.BigEndian.AppendUint32(n, uint32(i))
	if last {
		return append(n, 1)
	}
	return append(n, 0)
}

func encrypt(key []byte, chunk int, in io.Reader, out io.Writer) error {
	header := make([]byte, 0, headerLen)
	header = append(header, magic...)
	header = append(header, format)
	header = binary.LittleEndian.AppendUint32(header, uint32(chunk))
	random := make([]byte, saltLen+prefixLen)
	if _, err := rand.Read(random); err != nil {
		return fmt.Errorf("random salt: %w", err)
	}
	header = append(header, random...)
	salt, prefix := header[9:9+saltLen], header[9+saltLen:]
	aead, err := newAEAD(key, salt)
	if err != nil {
		return err
	}
	if _, err := out.Write(header); err != nil {
		return err
	}
	// Read one chunk ahead, to know which chunk is the last.
	br := bufio.NewReaderSize(in, chunk+1)
	plain := make([]byte, chunk)
	sealed := make([]byte, 0, chunk+aead.Overhead())
	for i := uint64(0); ; i++ {
		if i > math.MaxUint32 {
			return errors.New("blob too large: more than 2^32 chunks")
		}
		n, err := io.ReadFull(br, plain)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return fmt.Errorf("reading: %w", err)
		}
		last := n < chunk
		if !last {
			if _, err := br.Peek(1); err == io.EOF {
				last = true
			} else if err != nil {
				return fmt.Errorf("reading: %w", err)
			}
		}
		sealed = aead.Seal(sealed[:0], nonce(prefix, i, last), plain[:n], header)
		if _, err := out.Write(sealed); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}

var errAuth = errors.New("authentication failed: wrong key, or the stored bytes were modified or truncated")

func decrypt(key []byte, in io.Reader, out io.Writer) error {
	header := make([]byte, headerLen)
	if _, err := io.ReadFull(in, header); err != nil {
		return fmt.Errorf("not data this plugin encrypted: %d-byte header cut short", headerLen)
	}
	if string(header[:4]) != magic {
		return fmt.Errorf("not data this plugin encrypted: starts with %q, want %q", strings.ToValidUTF8(string(header[:4]), "?"), magic)
	}
	if header[4] != format {
		return fmt.Errorf("format %d: this version of %s reads format %d", header[4], name, format)
	}
	chunk := int(binary.LittleEndian.Uint32(header[5:9]))
	if chunk < minChunk || chunk > maxChunk {
		return fmt.Errorf("header names a chunk size of %d bytes (want %d to %d): corrupted", chunk, minChunk, maxChunk)
	}
	salt, prefix := header[9:9+saltLen], header[9+saltLen:]
	aead, err := newAEAD(key, salt)
	if err != nil {
		return err
	}
	full := chunk + aead.Overhead()
	br := bufio.NewReaderSize(in, full+1)
	sealed := make([]byte, full)
	plain := make([]byte, 0, chunk)
	for i := uint64(0); ; i++ {
		if i > math.MaxUint32 {
			return errAuth
		}
		n, err := io.ReadFull(br, sealed)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return fmt.Errorf("reading: %w", err)
		}
		last := n < full
		if !last {
			if _, err := br.Peek(1); err == io.EOF {
				last = true
			} else if err != nil {
				return fmt.Errorf("reading: %w", err)
			}
		}
		plain, err = aead.Open(plain[:0], nonce(prefix, i, last), sealed[:n], header)
		if err != nil {
			return errAuth
		}
		if _, err := out.Write(plain); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}
