package intake

import "filippo.io/age"

// ReceiptIdentityForTest exposes the receipt-derived identity to tests.
func ReceiptIdentityForTest(r Receipt, salt []byte) (*age.X25519Identity, error) {
	_, id, err := r.keys(salt)
	return id, err
}

// BIP 173's vector for an empty payload: "A12UEL5L".
func Bech32EmptyForTest() string { return bech32Encode("a", nil) }
