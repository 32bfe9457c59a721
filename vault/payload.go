package vault

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// Sizes of the age format's payload (c2sp.org/age, "Payload").
const (
	payloadNonceSize = 16
	chunkSize        = 64 << 10
	encChunkSize     = chunkSize + chacha20poly1305.Overhead
)

// splitHeader returns the length of the age header at the start of ct: up
// to and including the line "--- MAC". Stanza bodies are base64 lines, so
// the first line starting with "--- " ends the header.
func splitHeader(ct []byte) (int, error) {
	mac := 0
	if !bytes.HasPrefix(ct, []byte("age-encryption.org/v1\n")) {
		return 0, errors.New("not an age file")
	}
	if i := bytes.Index(ct, []byte("\n--- ")); i >= 0 {
		mac = i + 1
	} else {
		return 0, errors.New("no header MAC")
	}
	end := bytes.IndexByte(ct[mac:], '\n')
	if end < 0 {
		return 0, errors.New("truncated header")
	}
	return mac + end + 1, nil
}

// decryptAll decrypts the whole age file ct, held in memory, with id into
// one buffer of exactly the plaintext's size, which the caller owns and may
// wipe. Unlike age.Decrypt it keeps no plaintext in buffers of its own (age's
// stream reader keeps the last chunk in a 64 KiB buffer nobody wipes) and
// allocates once, which matters when every record of a large case is
// decrypted at unseal. The header MAC and every chunk are authenticated, and
// the STREAM rules are those of age: every chunk but the last is full, the
// last is flagged, and only an empty file has an empty chunk.
func decryptAll(ct []byte, id age.Identity) ([]byte, error) {
	hdrLen, err := splitHeader(ct)
	if err != nil {
		return nil, err
	}
	fileKey, err := age.DecryptHeader(ct[:hdrLen], id)
	if err != nil {
		return nil, err
	}
	defer clear(fileKey)
	payload := ct[hdrLen:]
	if len(payload) < payloadNonceSize+chacha20poly1305.Overhead {
		return nil, errors.New("truncated payload")
	}
	streamKey, err := hkdf.Key(sha256.New, fileKey, payload[:payloadNonceSize], "payload", chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(streamKey)
	aead, err := chacha20poly1305.New(streamKey)
	if err != nil {
		return nil, err
	}
	body := payload[payloadNonceSize:]
	n := (len(body) + encChunkSize - 1) / encChunkSize
	last := body[(n-1)*encChunkSize:]
	if len(last) < chacha20poly1305.Overhead || (n > 1 && len(last) == chacha20poly1305.Overhead) {
		return nil, errors.New("truncated or empty last chunk")
	}
	plain := make([]byte, 0, len(body)-n*chacha20poly1305.Overhead)
	var nonce [chacha20poly1305.NonceSize]byte
	for i := range n {
		chunk := body[i*encChunkSize : min(len(body), (i+1)*encChunkSize)]
		// The nonce is an 11-byte big-endian counter and a last-chunk flag.
		binary.BigEndian.PutUint64(nonce[3:11], uint64(i))
		if i == n-1 {
			nonce[11] = 1
		}
		if plain, err = aead.Open(plain, nonce[:], chunk, nil); err != nil {
			clear(plain[:cap(plain)])
			return nil, fmt.Errorf("chunk %d: %w", i, err)
		}
	}
	return plain, nil
}
