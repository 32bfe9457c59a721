package intake_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/evlog"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/store"
)

const pass = "intake test passphrase"

func openDir(t *testing.T) *datadir.Dir {
	t.Helper()
	return datadirtest.Open(t, pass)
}

func stage(t *testing.T, d *datadir.Dir, name, content string) *evidence.Pending {
	t.Helper()
	p, err := d.Evidence.Stage(context.Background(), strings.NewReader(content), name, "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The whole round: a source submits while the vault is sealed, comes back
// with the receipt, staff read and reply once unsealed, the source reads the
// reply (sealed again) and answers, and staff read the answer.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	in := d.Intake
	if !d.Vault.Sealed() {
		t.Fatal("vault should start sealed")
	}
	files := []*evidence.Pending{stage(t, d, "фото.jpg", "jpeg bytes"), stage(t, d, "list.txt", "names")}
	receipt, sub, err := in.Submit(ctx, intake.Draft{Text: "Меня задержали 3 марта.", Language: "ru"}, files)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(strings.ReplaceAll(string(receipt), " ", "")); got != 28 {
		t.Fatalf("receipt %q has %d digits", receipt, got)
	}
	// Sealed: staff reads fail, the source can read.
	if _, err := in.List(ctx, staffP); !errors.Is(err, vigil.ErrSealed) {
		t.Fatalf("List sealed: %v", err)
	}
	if _, err := in.Get(ctx, staffP, sub); !errors.Is(err, vigil.ErrSealed) {
		t.Fatalf("Get sealed: %v", err)
	}
	src, err := in.OpenReceipt(ctx, []byte(strings.ReplaceAll(string(receipt), " ", "-")))
	if err != nil {
		t.Fatal(err)
	}
	v, err := in.SourceView(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if v.Text != "Меня задержали 3 марта." || len(v.Files) != 2 || v.Files[0].Name != "фото.jpg" || len(v.Messages) != 0 {
		t.Fatalf("source view: %+v", v)
	}
	// Staff unseal, list, read, reply.
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	list, err := in.List(ctx, staffP)
	if err != nil || len(list) != 1 || list[0].ID != sub || list[0].State != intake.StateNew || list[0].Files != 2 {
		t.Fatalf("List: %+v %v", list, err)
	}
	if _, err := in.Reply(ctx, staffP, sub, "Где это было?"); err != nil {
		t.Fatal(err)
	}
	if err := in.SetState(ctx, staffP, sub, intake.StateInReview); err != nil {
		t.Fatal(err)
	}
	it, rc, err := in.OpenFile(ctx, staffP, sub, v.Files[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "names" || it.Name != "list.txt" {
		t.Fatalf("file: %q %q", it.Name, b)
	}
	d.Vault.Seal()
	// The source reads the reply while sealed and answers with a file.
	v, err = in.SourceView(ctx, src)
	if err != nil || len(v.Messages) != 1 || v.Messages[0].From != "staff" || v.Messages[0].Text != "Где это было?" {
		t.Fatalf("source view after reply: %+v %v", v, err)
	}
	if _, err := in.SourceReply(ctx, src, "Возле рынка.", []*evidence.Pending{stage(t, d, "map.png", "png")}); err != nil {
		t.Fatal(err)
	}
	d.Vault.Unseal([]byte(pass))
	sv, err := in.Get(ctx, staffP, sub)
	if err != nil {
		t.Fatal(err)
	}
	if sv.State != intake.StateInReview || len(sv.Messages) != 2 || sv.Messages[1].Text != "Возле рынка." || len(sv.Messages[1].Files) != 1 {
		t.Fatalf("staff view: %+v", sv)
	}
	// Every write has a leaf; the tree checks out.
	err = d.Store.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.TreeSize()
		if err != nil {
			return err
		}
		// 3 files + submission + 2 messages + audit events (list, reply, state, download, read).
		if n < 11 {
			t.Errorf("tree size %d, want at least 11", n)
		}
		return evlog.Check(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBadReceipts(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	receipt, _, err := d.Intake.Submit(ctx, intake.Draft{Text: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wrong := []byte(strings.ReplaceAll(string(receipt), " ", ""))
	wrong[5] = '0' + (wrong[5]-'0'+1)%10
	for _, r := range []string{"", "1234", string(wrong), string(receipt) + "1", "abcd efgh", "<script>"} {
		if _, err := d.Intake.OpenReceipt(ctx, []byte(r)); err != intake.ErrBadReceipt {
			t.Errorf("OpenReceipt(%q): %v, want ErrBadReceipt", r, err)
		}
	}
}

func TestRejects(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	d.Intake.Config.MaxText = 100
	d.Intake.Config.MaxFiles = 1
	for name, tc := range map[string]struct {
		d     intake.Draft
		files int
		want  error
	}{
		"empty":        {intake.Draft{Text: "  \n"}, 0, vigil.ErrInvalid},
		"invalid utf8": {intake.Draft{Text: "a\xffb"}, 0, vigil.ErrInvalid},
		"too long":     {intake.Draft{Text: strings.Repeat("a", 101)}, 0, vigil.ErrTooLarge},
		"too many":     {intake.Draft{Text: "x"}, 2, vigil.ErrTooLarge},
		"bad language": {intake.Draft{Text: "x", Language: "ru;drop"}, 0, vigil.ErrInvalid},
	} {
		var files []*evidence.Pending
		for range tc.files {
			files = append(files, stage(t, d, "f", "x"))
		}
		if _, _, err := d.Intake.Submit(ctx, tc.d, files); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// Nothing was recorded, and the staged files are gone.
	err := d.Store.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.TreeSize()
		if err == nil && n != 0 {
			t.Errorf("tree size %d after rejected submissions", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := d.Blobs.List(ctx, func(string) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d blobs left after rejected submissions", n)
	}
}

// The receipt-derived identity is a real age identity: what is sealed to it
// opens with it.
func TestReceiptIdentity(t *testing.T) {
	for range 50 {
		r := intake.NewReceipt()
		id, err := intake.ReceiptIdentityForTest(r, []byte("salt"))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w, _ := age.Encrypt(&buf, id.Recipient())
		w.Write([]byte("hello"))
		w.Close()
		pr, err := age.Decrypt(&buf, id)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(pr); string(b) != "hello" {
			t.Fatal("round trip")
		}
		id2, _ := intake.ReceiptIdentityForTest(r, []byte("other salt"))
		if id2.RecipientString() == id.RecipientString() {
			t.Fatal("salt does not change the identity")
		}
	}
}

// staffP is the investigator the tests act as.
var staffP = vigil.Principal{Actor: "staff", Account: "staff", Role: vigil.RoleInvestigator}

// The service, not only the handlers, checks who acts: roles without the
// submission actions get ErrForbidden from every staff method, and nothing
// is read, written or audited for them.
func TestRolesChecked(t *testing.T) {
	ctx := context.Background()
	d := openDir(t)
	in := d.Intake
	_, sub, err := in.Submit(ctx, intake.Draft{Text: "text"}, []*evidence.Pending{stage(t, d, "a.txt", "a")})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	v, err := in.Get(ctx, staffP, sub)
	if err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		var n int64
		err := d.Store.View(ctx, func(tx store.ReadTx) error {
			var err error
			n, err = tx.TreeSize()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := size()
	for _, p := range []vigil.Principal{
		{Actor: "analyst", Account: "analyst", Role: vigil.RoleAnalyst},
		{Actor: "nobody", Account: "nobody"},
		{Actor: "sealed-token"}, // a token checked while sealed has no role
	} {
		if _, err := in.List(ctx, p); !errors.Is(err, vigil.ErrForbidden) {
			t.Errorf("%s: List = %v, want ErrForbidden", p.Actor, err)
		}
		if _, err := in.Get(ctx, p, sub); !errors.Is(err, vigil.ErrForbidden) {
			t.Errorf("%s: Get = %v, want ErrForbidden", p.Actor, err)
		}
		if _, err := in.Reply(ctx, p, sub, "hello"); !errors.Is(err, vigil.ErrForbidden) {
			t.Errorf("%s: Reply = %v, want ErrForbidden", p.Actor, err)
		}
		if err := in.SetState(ctx, p, sub, intake.StateRejected); !errors.Is(err, vigil.ErrForbidden) {
			t.Errorf("%s: SetState = %v, want ErrForbidden", p.Actor, err)
		}
		if _, rc, err := in.OpenFile(ctx, p, sub, v.Files[0].ID); !errors.Is(err, vigil.ErrForbidden) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("%s: OpenFile = %v, want ErrForbidden", p.Actor, err)
		}
	}
	if after := size(); after != before {
		t.Errorf("refused calls wrote %d log leaves", after-before)
	}
	intakeP := vigil.Principal{Actor: "intake", Account: "intake", Role: vigil.RoleIntake}
	if _, err := in.List(ctx, intakeP); err != nil {
		t.Errorf("intake role: List = %v", err)
	}
}
