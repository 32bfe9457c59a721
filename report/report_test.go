package report_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/figures"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/datadir/datadirtest"
	"github.com/vigil-hr/vigil/report"
)

const pass = "correct horse battery staple"

var (
	ctx     = context.Background()
	admin   = vigil.Principal{Actor: "test:admin", Account: "admin", Role: vigil.RoleAdmin}
	analyst = vigil.Principal{Actor: "test:ana", Account: "ana", Role: vigil.RoleAnalyst}
	olga    = vigil.Principal{Actor: "test:olga", Account: "olga", Role: vigil.RoleInvestigator}
	intakeP = vigil.Principal{Actor: "test:iris", Account: "iris", Role: vigil.RoleIntake}
	// A fixed clock: the report shows its UTC day only.
	now = func() time.Time { return time.Date(2026, 3, 14, 23, 59, 58, 0, time.FixedZone("MSK", 3*3600)) }
)

// Private fields of the case's persons: none may reach a report.
var secrets = []string{"Иванов Иван Петрович", "Ivanov Ivan", "4510 123456", "+7 900 000-00-00"}

// A fixture is a data directory with a worked case: three acts with every
// status but unverified, both flags, an evidence item, sources of three
// grades, a person with private fields, and a second, restricted incident.
type fixture struct {
	d          *datadir.Dir
	ids        map[string]vigil.ID
	item       vigil.ID
	incident   vigil.ID
	restricted vigil.ID
}

// texts lets a test replace the case's stored texts (hostile input).
type texts struct {
	title, description, source, pseudonym, party, place, actDesc string
}

var plain = texts{
	title:       "Detentions in Veresk, spring 2017 (test)",
	description: "Men were detained and held in a police building.",
	source:      "Anonymous testimony V-1",
	pseudonym:   "V-1",
	party:       "Zarechny district police department",
	place:       "Zarechny district",
	actDesc:     "Held for days without any record.",
}

func newFixture(t testing.TB, tx texts) *fixture {
	t.Helper()
	d := datadirtest.Open(t, pass)
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	f := &fixture{d: d, ids: map[string]vigil.ID{}}
	it, err := d.Evidence.Add(ctx, strings.NewReader("testimony text"), "ivanov-ivan-testimony.txt", "")
	if err != nil {
		t.Fatal(err)
	}
	f.item = it.ID
	var ch []cases.Change
	add := func(key string, doc cases.Doc) vigil.ID {
		id := vigil.NewID()
		f.ids[key] = id
		ch = append(ch, cases.Change{ID: id, Key: key, Doc: doc})
		return id
	}
	region := add("region", vigil.Place{Kind: "region", Names: map[string]string{"en": "Veresk Region", "ru": "Вересковская область"}})
	district := add("district", vigil.Place{Kind: "district", Parent: region, Names: map[string]string{"en": tx.place, "ru": "Заречный район"}})
	ministry := add("ministry", vigil.Party{Name: "Ministry of Internal Affairs"})
	police := add("police", vigil.Party{Name: tx.party, Parent: ministry})
	head := add("head", vigil.Party{Name: "Office of the Head of the Region"})
	courierP := add("courier-party", vigil.Party{Name: "Veresk Courier"})
	srcV1 := add("src-v1", vigil.Source{Name: tx.source, Type: vigil.SourceVictim, Reliability: "C", Origin: "testimony V-1"})
	srcV2 := add("src-v2", vigil.Source{Name: "Anonymous testimony V-2", Type: vigil.SourceVictim, Reliability: "C"})
	courier := add("src-courier", vigil.Source{Name: "Veresk Courier report", Type: vigil.SourceMedia, Reliability: "B", Party: courierP})
	srcMin := add("src-ministry", vigil.Source{Name: "Ministry press service", Type: vigil.SourceOfficial, Reliability: "F", Party: ministry})
	srcHead := add("src-head", vigil.Source{Name: "Head's press secretary", Type: vigil.SourceOfficial, Reliability: "F", Party: head})
	v1 := add("V-1", vigil.Person{Pseudonym: tx.pseudonym, Private: &vigil.PersonPrivate{
		Names:       []vigil.PersonName{{Script: "Cyrl", Name: secrets[0]}, {Script: "Latn", Name: secrets[1]}},
		Identifiers: []vigil.Identifier{{Kind: "passport", Value: secrets[2]}},
		Contacts:    []vigil.Contact{{Kind: "phone", Value: secrets[3]}},
	}})
	date := func(s string) vigil.Date {
		d, err := vigil.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	f.incident = add("wave", vigil.Incident{Title: tx.title, Description: tx.description,
		Period: vigil.Period{From: date("2017-02"), To: date("2017-05")}, Place: region})
	det := add("detentions", vigil.Act{Incident: f.incident, Type: "arbitrary_detention", Description: tx.actDesc,
		Period: vigil.Period{From: date("2017-03")}, Place: district, Victims: vigil.VictimCount{Min: 30, Max: 100},
		VictimPersons: []vigil.ID{v1}, Perpetrators: []vigil.ID{police}})
	tor := add("torture", vigil.Act{Incident: f.incident, Type: "torture", Period: vigil.Period{From: date("2017-04")},
		Place: district, Victims: vigil.VictimCount{Min: 10, Max: 30}, Perpetrators: []vigil.ID{police}})
	kil := add("killing", vigil.Act{Incident: f.incident, Type: "killing", Period: vigil.Period{From: date("2017-04-20")},
		Victims: vigil.VictimCount{Min: 2, Max: 3}, Perpetrators: []vigil.ID{police}})
	claim := func(key string, act, src vigil.ID, st vigil.Stance, cred vigil.Credibility, ev ...vigil.ID) {
		add(key, vigil.Claim{Act: act, Source: src, Stance: st, Credibility: cred, Date: date("2017-04-02"),
			Quote: "QUOTE-" + key + " stays in the bundle", Evidence: ev})
	}
	claim("v1-det", det, srcV1, vigil.Affirms, 2, f.item)
	claim("v2-det", det, srcV2, vigil.Affirms, 3)
	claim("ministry-det", det, srcMin, vigil.Denies, 6)
	claim("head-det", det, srcHead, vigil.Denies, 6)
	claim("v2-tor", tor, srcV2, vigil.Affirms, 2)
	claim("courier-tor", tor, courier, vigil.Affirms, 3)
	claim("v1-kil", kil, srcV1, vigil.Affirms, 3)

	// A restricted incident, with an act and a claim of its own.
	f.restricted = add("secret-wave", vigil.Incident{Title: "Restricted incident SECRET-TITLE", Restricted: []string{"olga"}})
	sa := add("secret-act", vigil.Act{Incident: f.restricted, Type: "threat", Victims: vigil.VictimCount{Min: 1, Max: 1}})
	claim("secret-claim", sa, srcV2, vigil.Affirms, 3)

	if _, err := d.Cases.Apply(ctx, admin, ch); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) sources() report.Sources {
	return report.Sources{
		Cases: f.d.Cases, Evidence: f.d.Evidence, LogVerifier: f.d.Vault.LogVerifier(),
		Checkpoint:   func(ctx context.Context, size int64) ([]byte, error) { return f.d.SignCheckpoint(ctx) },
		Organisation: map[string]string{"en": "Veresk Watch", "ru": "Вересковский мониторинг"},
		Now:          now,
	}
}

func (f *fixture) collect(t testing.TB, p vigil.Principal, incident vigil.ID) *report.Report {
	t.Helper()
	r, err := report.Collect(ctx, f.sources(), p, incident)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func render(t testing.TB, r *report.Report, lang string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := r.WritePDF(&b, lang); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pageTexts parses the PDF with a reader vigil did not write and returns
// each page's text.
func pageTexts(t testing.TB, b []byte) []string {
	t.Helper()
	rd, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("parse PDF: %v", err)
	}
	if rd.NumPage() == 0 {
		t.Fatal("PDF has no pages")
	}
	var out []string
	for i := 1; i <= rd.NumPage(); i++ {
		s, err := rd.Page(i).GetPlainText(nil)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		out = append(out, s)
	}
	return out
}

// flat joins the pages' text with spaces for whitespace, so that a phrase
// wrapped over lines still matches.
func flat(pages []string) string {
	return strings.Join(strings.Fields(strings.Join(pages, "\n")), " ")
}

func TestReport(t *testing.T) {
	f := newFixture(t, plain)
	r := f.collect(t, admin, f.incident)

	// What was collected: the incident's acts only, statuses and flags as
	// corroborate gives them, the evidence item, the checkpoint.
	status := map[string]corroborate.Status{}
	for _, a := range r.Acts {
		status[a.Key] = a.Status
	}
	want := map[string]corroborate.Status{"detentions": corroborate.Confirmed, "torture": corroborate.Corroborated, "killing": corroborate.Reported}
	if fmt.Sprint(status) != fmt.Sprint(want) {
		t.Errorf("acts: got %v, want %v", status, want)
	}
	if len(r.Evidence) != 1 || r.Evidence[0].ID != f.item {
		t.Errorf("evidence: got %+v, want the one item", r.Evidence)
	}
	if r.Checkpoint.Size == 0 || !strings.Contains(r.Checkpoint.Signed, r.Checkpoint.Root) {
		t.Errorf("checkpoint: %+v", r.Checkpoint)
	}
	if got := r.Generated.Format(time.RFC3339); got != "2026-03-14T00:00:00Z" {
		t.Errorf("generated %s, want the UTC day 2026-03-14T00:00:00Z", got)
	}

	for _, lang := range report.Languages {
		t.Run(lang, func(t *testing.T) {
			b := render(t, r, lang)
			checkFonts(t, b)
			pages := pageTexts(t, b)
			text := flat(pages)
			must := []string{r.Incident.Title, r.Checkpoint.Origin, r.Checkpoint.Root, f.item.String(),
				"text/plain", fmt.Sprintf("%d / %d", r.Total.ConfirmedAtLeast, r.Total.ReportedUpTo), "2026-03-14",
				"vigil verify bundle.zip --log-key VKEY"}
			for _, a := range r.Acts {
				must = append(must, a.Key, a.ID.String())
				if lang == "ru" {
					must = append(must, firstWords(a.Explanation.RU, 8))
				} else {
					must = append(must, firstWords(a.Explanation.EN, 8))
				}
				for _, c := range a.Claims {
					must = append(must, c.Key, c.ID.String())
				}
			}
			for _, s := range r.Sources {
				must = append(must, s.Name, s.ID.String())
			}
			if lang == "ru" {
				must = append(must, "Отчёт об инциденте", "Вересковский мониторинг", "Произвольное задержание",
					"Пытки", "Источники по оценке", "подтверждено перекрёстно", "Заречный район", "Страница 1 из")
			} else {
				must = append(must, "Veresk Watch", "Incident report", "Arbitrary detention", "Sources by grade",
					"Zarechny district", "Page 1 of")
			}
			for _, s := range must {
				if !strings.Contains(text, strings.Join(strings.Fields(s), " ")) {
					t.Errorf("PDF text lacks %q", s)
				}
			}
			// Every leaf of the record index: "LEAF KIND KEY ID" rows.
			for _, x := range leaves(r) {
				if !regexp.MustCompile(`\b` + fmt.Sprint(x.leaf) + `\b.{0,80}` + x.id.String()).MatchString(text) {
					t.Errorf("record index lacks leaf %d of %s", x.leaf, x.id)
				}
			}
			// The signed checkpoint, line by line.
			for _, l := range strings.Split(strings.TrimSpace(r.Checkpoint.Signed), "\n") {
				if l != "" && !strings.Contains(strings.ReplaceAll(text, " ", ""), strings.ReplaceAll(l, " ", "")) {
					t.Errorf("PDF text lacks checkpoint line %q", l)
				}
			}
			// Never: private fields, quotes, the item's file name, the
			// restricted incident.
			for _, s := range append(secrets, "QUOTE-", "ivanov-ivan-testimony", "SECRET-TITLE", "secret-act") {
				if strings.Contains(text, s) {
					t.Errorf("PDF text shows %q", s)
				}
			}
			if bytes.Contains(b, []byte(now().UTC().Format("15:04"))) {
				t.Error("PDF carries the time of day")
			}
			checkPages(t, b)
		})
	}
}

func firstWords(s string, n int) string {
	w := strings.Fields(s)
	return strings.Join(w[:min(n, len(w))], " ")
}

type leafRec struct {
	leaf int64
	id   vigil.ID
}

func leaves(r *report.Report) []leafRec {
	out := []leafRec{{r.Incident.Leaf, r.Incident.ID}}
	for _, a := range r.Acts {
		out = append(out, leafRec{a.Leaf, a.ID})
		for _, c := range a.Claims {
			out = append(out, leafRec{c.Leaf, c.ID})
		}
	}
	for _, s := range r.Sources {
		out = append(out, leafRec{s.Leaf, s.ID})
	}
	for _, it := range r.Evidence {
		out = append(out, leafRec{it.Leaf, it.ID})
	}
	return out
}

// checkFonts checks that the three fonts are embedded (FontFile2) with a
// ToUnicode map, and that none is a standard font the viewer would supply.
func checkFonts(t *testing.T, b []byte) {
	t.Helper()
	if n := bytes.Count(b, []byte("/FontFile2")); n != 3 {
		t.Errorf("%d embedded TrueType fonts, want 3", n)
	}
	if n := bytes.Count(b, []byte("/ToUnicode")); n != 3 {
		t.Errorf("%d ToUnicode maps, want 3", n)
	}
	if bytes.Contains(b, []byte("/Helvetica")) || bytes.Contains(b, []byte("/Times")) {
		t.Error("PDF uses a standard font that is not embedded")
	}
}

// TestFiguresMatch checks the report's figures against package figures run
// on the same acts through package cases.
func TestFiguresMatch(t *testing.T) {
	f := newFixture(t, plain)
	r := f.collect(t, admin, f.incident)
	table, err := f.d.Cases.Figures(ctx, admin, figures.ByIncident)
	if err != nil {
		t.Fatal(err)
	}
	want := table[f.incident.String()]
	if r.Total.ConfirmedAtLeast != want.ConfirmedAtLeast || r.Total.ReportedUpTo != want.ReportedUpTo {
		t.Errorf("total %d/%d, cases says %d/%d", r.Total.ConfirmedAtLeast, r.Total.ReportedUpTo, want.ConfirmedAtLeast, want.ReportedUpTo)
	}
	// 30..100 with V-1 named (confirmed), 10..30 (corroborated), 2..3
	// (reported): confirmed 30+10, reported 100+30+3.
	if r.Total.ConfirmedAtLeast != 40 || r.Total.ReportedUpTo != 133 {
		t.Errorf("total %d/%d, want 40/133", r.Total.ConfirmedAtLeast, r.Total.ReportedUpTo)
	}
	text := flat(pageTexts(t, render(t, r, "en")))
	for k, fg := range r.ByType {
		if !strings.Contains(text, fmt.Sprintf("%d / %d", fg.ConfirmedAtLeast, fg.ReportedUpTo)) {
			t.Errorf("chart lacks %s: %d / %d", k, fg.ConfirmedAtLeast, fg.ReportedUpTo)
		}
	}
	for _, m := range []string{"2017-03", "2017-04"} {
		if _, ok := r.ByMonth[m]; !ok || !strings.Contains(text, m) {
			t.Errorf("month %s missing from figures or chart", m)
		}
	}
}

// TestAccess: the report honours incidents' restriction, roles, and
// reads no private field even for an admin.
func TestAccess(t *testing.T) {
	f := newFixture(t, plain)
	for _, test := range []struct {
		name     string
		p        vigil.Principal
		incident vigil.ID
		err      error
	}{
		{"admin sees the restricted incident", admin, f.restricted, nil},
		{"a named investigator sees it", olga, f.restricted, nil},
		{"an analyst not named does not", analyst, f.restricted, vigil.ErrNotFound},
		{"intake staff read no case records", intakeP, f.incident, vigil.ErrForbidden},
		{"an analyst sees an open incident", analyst, f.incident, nil},
		{"a place is not an incident", admin, f.ids["region"], vigil.ErrInvalid},
		{"no such record", admin, vigil.NewID(), vigil.ErrNotFound},
	} {
		t.Run(test.name, func(t *testing.T) {
			r, err := report.Collect(ctx, f.sources(), test.p, test.incident)
			if !errors.Is(err, test.err) {
				t.Fatalf("got %v, want %v", err, test.err)
			}
			if err != nil {
				if r != nil {
					t.Error("a report with the error")
				}
				return
			}
			text := flat(pageTexts(t, render(t, r, "en")))
			if test.incident == f.restricted {
				if !r.Incident.Restricted || !strings.Contains(text, "restricted to named staff accounts") {
					t.Error("a restricted incident's report does not say so")
				}
				if strings.Contains(text, "olga") {
					t.Error("the report names the accounts of the restriction")
				}
			}
		})
	}
}

// TestStaleCheckpoint: a checkpoint older than the report's records is
// refused, not printed beside leaves it does not contain.
func TestStaleCheckpoint(t *testing.T) {
	d := datadirtest.Open(t, pass)
	if err := d.Vault.Unseal([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Evidence.Add(ctx, strings.NewReader("x"), "x.txt", ""); err != nil {
		t.Fatal(err)
	}
	old, err := d.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inc := vigil.NewID()
	if _, err := d.Cases.Apply(ctx, admin, []cases.Change{{ID: inc, Doc: vigil.Incident{Title: "late"}}}); err != nil {
		t.Fatal(err)
	}
	src := report.Sources{Cases: d.Cases, Evidence: d.Evidence, LogVerifier: d.Vault.LogVerifier(),
		Checkpoint: func(context.Context, int64) ([]byte, error) { return old, nil }}
	if _, err := report.Collect(ctx, src, admin, inc); !errors.Is(err, report.ErrNoCheckpoint) {
		t.Errorf("stale checkpoint: got %v, want ErrNoCheckpoint", err)
	}
	bad := bytes.Replace(old, []byte("\n1\n"), []byte("\n9\n"), 1)
	src.Checkpoint = func(context.Context, int64) ([]byte, error) { return bad, nil }
	if _, err := report.Collect(ctx, src, admin, inc); err == nil {
		t.Error("a checkpoint with a changed size was accepted")
	}
}

// TestHostileText stores text made to break a PDF writer or fool a reader:
// markup, PDF string and operator syntax, backslashes, right-to-left and
// bidirectional overrides, combining marks, CJK and emoji, words longer
// than a line. The PDF must parse, show the ASCII exactly, mark what the
// fonts cannot draw with U+FFFD, and lose no character of a long word.
func TestHostileText(t *testing.T) {
	long := strings.Repeat("Ж", 240) + "END"
	tx := texts{
		title:       `<script>alert(1)</script> ) Tj ET BT (x) Tj \\ \( endstream endobj %%EOF`,
		description: "שלום עולם مرحبا \u202Eevil\u202C e\u0301 Z\u0337\u0322a\u0335l\u0334g\u0338o\u0336 漢字 🙂\n\nsecond paragraph\ttab",
		source:      long,
		pseudonym:   `V-1 ">< &amp; <b>bold</b>`,
		party:       strings.Repeat("police-department-", 27),
		place:       "(((((((((( \\\\\\\\ ))))))",
		actDesc:     strings.Repeat("a ", 3000) + "LAST",
	}
	f := newFixture(t, tx)
	r := f.collect(t, admin, f.incident)
	for _, lang := range report.Languages {
		t.Run(lang, func(t *testing.T) {
			b := render(t, r, lang)
			pages := pageTexts(t, b)
			text := flat(pages)
			joined := strings.Join(strings.Fields(strings.Join(pages, "")), "")
			for _, s := range []string{`<script>alert(1)</script> ) Tj ET BT (x) Tj \\ \( endstream endobj %%EOF`,
				`V-1 ">< &amp; <b>bold</b>`, "é", "second paragraph", "LAST"} {
				if !strings.Contains(text, s) {
					t.Errorf("PDF text lacks %q", s)
				}
			}
			// The place has a hostile English name; the Russian report
			// shows its Russian one.
			if lang == "en" && !strings.Contains(text, tx.place) {
				t.Errorf("PDF text lacks %q", tx.place)
			}
			if !strings.Contains(joined, long) {
				t.Error("the long word lost characters")
			}
			if !strings.Contains(joined, strings.Repeat("police-department-", 27)) {
				t.Error("the long party name lost characters")
			}
			if !strings.Contains(text, "\uFFFD") {
				t.Error("no U+FFFD for characters the fonts lack")
			}
			for _, s := range []string{"\u202E", "\u0301", "ש", "漢"} {
				if strings.Contains(text, s) {
					t.Errorf("PDF text has %q, which the fonts cannot draw", s)
				}
			}
			if len(pages) < 5 {
				t.Errorf("%d pages: the long description should span pages", len(pages))
			}
			checkPages(t, b)
		})
	}
}

// TestDeterministic: the same report gives the same bytes.
func TestDeterministic(t *testing.T) {
	f := newFixture(t, plain)
	r := f.collect(t, admin, f.incident)
	for _, lang := range report.Languages {
		if !bytes.Equal(render(t, r, lang), render(t, r, lang)) {
			t.Errorf("%s: two renderings differ", lang)
		}
	}
}

func TestLanguage(t *testing.T) {
	f := newFixture(t, plain)
	r := f.collect(t, admin, f.incident)
	if err := r.WritePDF(&bytes.Buffer{}, "de"); !errors.Is(err, vigil.ErrInvalid) {
		t.Errorf("--lang de: got %v, want ErrInvalid", err)
	}
}

// checkPages renders every page with pdftoppm (poppler, a reader vigil did
// not write) and checks that none is blank and that all text is inside the
// text area (checkInside). Without pdftoppm it skips, or
// fails when VIGIL_REQUIRE_PDFTOPPM=1 (as in CI).
func checkPages(t *testing.T, b []byte) {
	t.Helper()
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		if os.Getenv("VIGIL_REQUIRE_PDFTOPPM") == "1" {
			t.Fatal("pdftoppm not found and VIGIL_REQUIRE_PDFTOPPM=1 (install poppler-utils)")
		}
		t.Log("pdftoppm not found (poppler-utils): pages not rendered")
		return
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "r.pdf")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftoppm", "-r", "30", "-png", in, filepath.Join(dir, "p")).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		// poppler prints "Syntax Error" and the like on a malformed file.
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	checkInside(t, in)
	pngs, _ := filepath.Glob(filepath.Join(dir, "p-*.png"))
	if want := len(pageTexts(t, b)); len(pngs) != want {
		t.Fatalf("pdftoppm rendered %d pages, the PDF has %d", len(pngs), want)
	}
	for _, p := range pngs {
		if ink := inked(t, p); ink < 0.005 {
			t.Errorf("%s: %.4f of the page inked, looks blank", filepath.Base(p), ink)
		}
	}
}

// inked returns the share of pixels that are not near white.
func inked(t *testing.T, path string) float64 {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	bd := img.Bounds()
	n := 0
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r+g+b < 3*0xe000 {
				n++
			}
		}
	}
	return float64(n) / float64(bd.Dx()*bd.Dy())
}

// checkInside checks, with poppler's word boxes (pdftotext -bbox), that
// every word the PDF draws is inside the text area: within the side
// margins, above the footer band, and no further down than the footer
// line. Poppler measures the glyphs itself, independently of the report.
func checkInside(t *testing.T, pdfPath string) {
	t.Helper()
	out, err := exec.Command("pdftotext", "-bbox", pdfPath, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v", err)
	}
	const pageW, pageH, margin, bottom = 595.28, 841.89, 50.0, 841.89 - 60
	re := regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)
	words := re.FindAllStringSubmatch(string(out), -1)
	if len(words) == 0 {
		t.Fatal("pdftotext -bbox found no words")
	}
	for _, w := range words {
		var v [4]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(w[i+1], 64)
		}
		xMin, yMin, xMax, yMax := v[0], v[1], v[2], v[3]
		body := yMax <= bottom+2
		footer := yMin >= pageH-46 && yMax <= pageH-25
		if xMin < margin-0.5 || xMax > pageW-margin+0.5 || !body && !footer {
			t.Errorf("word %q at x %.1f..%.1f, y %.1f..%.1f is outside the text area", w[5], xMin, xMax, yMin, yMax)
			return
		}
	}
}
