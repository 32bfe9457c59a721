package stats

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/audit"
	"github.com/vigil-hr/vigil/internal/atomicfile"
	"github.com/vigil-hr/vigil/record"
	"github.com/vigil-hr/vigil/store"
	"github.com/vigil-hr/vigil/vault"
)

// Kind declares statistics records: logged, one version each, whose
// document is [Document].
var Kind = record.Kind{Name: "statistics", Logged: true}

// Document is a statistics record's document: the signed note, whole.
type Document struct {
	Note string `json:"note"`
}

// LatestFile is the file name of the latest publication in a [Dir].
const LatestFile = "latest.txt"

// A Dir is the publication directory of statistics (DIR/public/stats): one
// file ID.txt per publication and latest.txt, a copy of the newest. The
// public listener serves from it without any key.
type Dir string

// Publish signs t (its ID and time are set here) with the vault's
// publication key, logs it with an audit event, and writes it to d. The
// vault must be unsealed.
func Publish(ctx context.Context, d Dir, st store.Store, v *vault.Vault, by vigil.Principal, t Table, now time.Time, precision time.Duration) (Table, []byte, error) {
	signer, err := v.AdvisorySigner()
	if err != nil {
		return Table{}, nil, err
	}
	if precision <= 0 {
		precision = time.Hour
	}
	now = now.UTC().Truncate(time.Second)
	t.ID, t.Published = vigil.NewID(), now
	msg, err := Sign(t, signer)
	if err != nil {
		return Table{}, nil, fmt.Errorf("sign statistics: %w", err)
	}
	pre, err := Kind.Seal(v, record.Version{ID: t.ID, Version: 1, Time: now, Created: now.Truncate(precision),
		Author: by.Actor, Prev: -1}, Document{Note: string(msg)})
	if err != nil {
		return Table{}, nil, err
	}
	ev, err := audit.Prepare(v, by, "publish:statistics", t.ID, now, precision)
	if err != nil {
		return Table{}, nil, err
	}
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return Table{}, nil, err
	}
	path := filepath.Join(string(d), t.ID.String()+".txt")
	if err := atomicfile.WriteNew(path, msg, 0o644); err != nil {
		return Table{}, nil, err
	}
	err = st.Update(ctx, func(tx store.Tx) error { return record.PutAll(tx, pre, ev) })
	if err != nil {
		os.Remove(path)
		return Table{}, nil, err
	}
	if err := atomicfile.Write(filepath.Join(string(d), LatestFile), msg, 0o644); err != nil {
		return Table{}, nil, fmt.Errorf("statistics %s are logged, but not published as the latest: %w", t.ID, err)
	}
	return t, msg, nil
}

// Latest returns the latest published statistics note, or nil if none.
func (d Dir) Latest() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(string(d), LatestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}
