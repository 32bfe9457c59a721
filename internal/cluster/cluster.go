// Package cluster keeps several vigil serve processes on one PostgreSQL
// database consistent with each other (docs/scale.md, "Several servers").
//
// A [Node] holds one connection of its own that LISTENs on two channels:
//
//   - vigil_records: the database announces every new record version
//     ("KIND HEXID", by a trigger of store/postgres's migration 0005) when its
//     transaction commits; the node passes it to Handlers.Record, and vigil
//     serve loads it into its case model.
//   - vigil_seal: a node whose vault is sealed calls [Node.Seal]; every node
//     (itself included) gets Handlers.Seal and seals its own vault. Sealing one
//     server seals them all. Unsealing is per server: each needs the passphrase.
//
// Notifications carry no secret and are not stored by PostgreSQL. When the
// connection drops, the node reconnects and calls Handlers.Resync, since
// notifications sent meanwhile are lost.
package cluster

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/store/postgres"
)

// Channel names.
const (
	RecordsChannel = "vigil_records"
	SealChannel    = "vigil_seal"
)

// Handlers are what a node does with what it hears. Each runs on the node's
// goroutine, one at a time; nil ones are skipped.
type Handlers struct {
	// Record is a record version committed by any server (this one too).
	Record func(kind string, id vigil.ID)
	// Seal is a server's request that every server seal its vault.
	Seal func()
	// Resync follows a reconnection: notifications may have been missed.
	Resync func()
	// Error reports a lost connection (the node keeps retrying).
	Error func(error)
}

// A Node listens for the other servers' notifications until its context is
// done or Close is called.
type Node struct {
	cfg    *pgx.ConnConfig
	h      Handlers
	cancel context.CancelFunc
	done   chan struct{}
}

// Join connects to the database at url (a store URL, see
// postgres.ParseURL), starts listening and returns once it does.
func Join(ctx context.Context, url string, h Handlers) (*Node, error) {
	pc, err := postgres.ParseURL(url)
	if err != nil {
		return nil, err
	}
	conn, err := listen(ctx, pc.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n := &Node{cfg: pc.ConnConfig, h: h, cancel: cancel, done: make(chan struct{})}
	go n.run(lctx, conn)
	return n, nil
}

func listen(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("%w: connect to PostgreSQL: %v", vigil.ErrUnavailable, err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+RecordsChannel+"; LISTEN "+SealChannel); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("%w: LISTEN: %v", vigil.ErrUnavailable, err)
	}
	return conn, nil
}

func (n *Node) run(ctx context.Context, conn *pgx.Conn) {
	defer close(n.done)
	for {
		err := n.receive(ctx, conn)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		if n.h.Error != nil {
			n.h.Error(err)
		}
		for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			if conn, err = listen(ctx, n.cfg); err == nil {
				break
			}
		}
		if n.h.Resync != nil {
			n.h.Resync()
		}
	}
}

// receive hands notifications to the handlers until the connection fails.
func (n *Node) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		nt, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch nt.Channel {
		case SealChannel:
			if n.h.Seal != nil {
				n.h.Seal()
			}
		case RecordsChannel:
			kind, hexID, ok := strings.Cut(nt.Payload, " ")
			var id vigil.ID
			if b, err := hex.DecodeString(hexID); !ok || err != nil || len(b) != len(id) {
				continue
			} else {
				copy(id[:], b)
			}
			if n.h.Record != nil {
				n.h.Record(kind, id)
			}
		}
	}
}

// Seal asks every server on the database, this one included, to seal its
// vault.
func (n *Node) Seal(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, n.cfg.Copy())
	if err != nil {
		return fmt.Errorf("%w: cluster: connect to PostgreSQL: %v", vigil.ErrUnavailable, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "NOTIFY "+SealChannel); err != nil {
		return fmt.Errorf("%w: cluster: NOTIFY: %v", vigil.ErrUnavailable, err)
	}
	return nil
}

// Close stops listening and waits for the handlers to return.
func (n *Node) Close() error {
	n.cancel()
	<-n.done
	return nil
}
