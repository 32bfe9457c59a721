package evlog_test

import (
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/vigil-hr/vigil/evlog"
)

// A statement, its salt and the log entry that commits to them: the entry
// is SHA-256(salt || statement), and the Merkle leaf is its RFC 6962 record hash.
// The same figures come out of the by-hand recipe in the bundle README:
// (head -c 32 /dev/zero; cat statement.txt) | sha256sum.
func ExampleCommitment() {
	st := evlog.Statement{
		Kind: "item", ID: "0k6z4w3m8hq2v5a9c1d7e3f0gn", Version: 1,
		Time:      time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC),
		SHA256:    [32]byte{0x9f, 0x86},
		Size:      4,
		MediaType: "text/plain",
		Prev:      -1,
	}
	text, _ := st.Marshal()
	var salt [evlog.SaltSize]byte // all zero here; random in vigil
	entry := evlog.Commitment(salt, text)
	fmt.Print(string(text))
	fmt.Printf("entry %x\n", entry[:8])
	leaf := tlog.RecordHash(entry[:])
	fmt.Printf("leaf  %x\n", leaf[:8])
	// Output:
	// vigil.statement/v1
	// kind item
	// id 0k6z4w3m8hq2v5a9c1d7e3f0gn
	// version 1
	// time 2026-11-25T15:00:00Z
	// sha256 9f86000000000000000000000000000000000000000000000000000000000000
	// size 4
	// type text/plain
	// prev -
	// entry a79cfd784e923989
	// leaf  ae8677ffb26afc77
}
