package staffweb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
)

// benchSubmissions is the inbox size of BenchmarkInboxPage.
const benchSubmissions = 100_000

// fillSubmissions stores n submissions from 8 writers at once (the group
// commit batches them, as under real load), a tenth with a state changed.
func fillSubmissions(d *datadir.Dir, n int) error {
	ctx := context.Background()
	staff := vigil.Principal{Actor: "bench", Role: vigil.RoleAdmin}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				_, id, err := d.Intake.Submit(ctx, intake.Draft{Text: fmt.Sprintf("Submission %d: I was detained near the market.", i), Language: "en"}, nil)
				if err == nil && i%10 == 0 {
					err = d.Intake.SetState(ctx, staff, id, intake.StateInReview)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// BenchmarkInboxPage: the inbox's first page and a filtered page with
// 100,000 submissions, over HTTP as a browser asks for them (server time
// plus loopback). "first-ms" is the first page after unseal, which builds
// the index; "bytes/page" the page's size.
func BenchmarkInboxPage(b *testing.B) {
	d := datadirtest.Cached(b, fmt.Sprintf("inbox-%d-v1", benchSubmissions), vaultPass, func(d *datadir.Dir) error {
		return fillSubmissions(d, benchSubmissions)
	})
	e := newEnvOn(b, d, false, true)
	name := "Bench " + vigil.NewID().String()[:6]
	e.account(b, name, vigil.RoleInvestigator, "en", "correct horse battery staple")
	c := newClient(b, e.serve(b))
	e.signIn(b, c, name, "correct horse battery staple", nil)
	start := time.Now()
	if r := c.get("/inbox"); r.status != 200 {
		b.Fatalf("inbox: %d", r.status)
	}
	first := time.Since(start)
	for _, p := range []string{"/inbox", "/inbox?state=in_review"} {
		b.Run(p, func(b *testing.B) {
			var size int
			for b.Loop() {
				r := c.get(p)
				if r.status != 200 {
					b.Fatalf("%s: %d", p, r.status)
				}
				size = len(r.body)
			}
			b.ReportMetric(float64(size), "bytes/page")
			b.ReportMetric(float64(first.Milliseconds()), "first-ms")
		})
	}
}
