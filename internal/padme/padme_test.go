package padme_test

import (
	"testing"

	"github.com/vigil-hr/vigil/internal/padme"
)

func TestSize(t *testing.T) {
	for _, c := range []struct{ n, want int64 }{
		{0, 256}, {1, 256}, {255, 256}, {256, 256}, {257, 272},
		{100000, 100352}, {100001, 100352}, {100352, 100352}, {100353, 102400},
		{1610612736, 1610612736}, {1610612737, 1644167168},
	} {
		if got := padme.Size(c.n); got != c.want {
			t.Errorf("Size(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// Padding never shrinks, grows monotonically and costs at most 12 %.
func TestSizeBounds(t *testing.T) {
	prev := int64(0)
	check := func(n int64) {
		p := padme.Size(n)
		if p < n || p < prev {
			t.Fatalf("Size(%d) = %d (previous %d)", n, p, prev)
		}
		if n >= padme.Min && float64(p-n) > 0.12*float64(n) {
			t.Fatalf("Size(%d) = %d: overhead %.1f %%", n, p, 100*float64(p-n)/float64(n))
		}
		prev = p
	}
	for n := int64(0); n < 1<<20; n++ {
		check(n)
	}
	for n := int64(1 << 20); n < 1<<40; n = n*3/2 + 7 {
		prev = 0
		check(n)
	}
}
