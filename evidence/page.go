package evidence

import (
	"context"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/store"
)

// A Listed item is an item with its record's coarse creation time (the
// plaintext column, at the service's CoarseTime).
type Listed struct {
	Item
	Created time.Time
}

// MaxPage is the most items [Service.Page] returns at once.
const MaxPage = 500

// Page returns up to limit items (1..MaxPage; otherwise 50) with IDs
// greater than after (zero: from the start), in ID order, each decrypted
// and with its leaf. A short page is the last. It needs the vault unsealed.
func (s *Service) Page(ctx context.Context, after vigil.ID, limit int) ([]Listed, error) {
	if limit < 1 || limit > MaxPage {
		limit = 50
	}
	out := []Listed{}
	err := s.Store.View(ctx, func(tx store.ReadTx) error {
		recs, err := tx.Records(Kind, after, limit)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			it, err := s.Decode(tx, rec)
			if err != nil {
				return err
			}
			out = append(out, Listed{Item: it, Created: rec.Created})
		}
		return nil
	})
	return out, err
}
