package report_test

import (
	"io"
	"testing"
)

// BenchmarkCollect gathers the fixture's report; BenchmarkActs is its
// baseline, the corroboration of every act that Collect starts with.
func BenchmarkCollect(b *testing.B) {
	f := newFixture(b, plain)
	f.collect(b, admin, f.incident) // load the model once
	for b.Loop() {
		f.collect(b, admin, f.incident)
	}
}

func BenchmarkActs(b *testing.B) {
	f := newFixture(b, plain)
	f.collect(b, admin, f.incident)
	for b.Loop() {
		if _, err := f.d.Cases.Acts(ctx, admin); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWritePDF writes the fixture's report in each language.
func BenchmarkWritePDF(b *testing.B) {
	f := newFixture(b, plain)
	r := f.collect(b, admin, f.incident)
	for _, lang := range []string{"en", "ru"} {
		b.Run(lang, func(b *testing.B) {
			for b.Loop() {
				if err := r.WritePDF(io.Discard, lang); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
