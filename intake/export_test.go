package intake

import "github.com/vigil-hr/vigil/vault"

// ReceiptIdentityForTest exposes the receipt-derived identity to tests.
func ReceiptIdentityForTest(r Receipt, salt []byte) (*vault.X25519Identity, error) {
	_, id, err := r.keys(salt)
	return id, err
}
