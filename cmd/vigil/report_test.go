package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"
)

// TestReportCLI writes the worked case's report with vigil report, in
// both languages, by key and by record ID, and reads it back with a PDF
// reader vigil did not write; bad invocations fail with one line and
// write nothing.
func TestReportCLI(t *testing.T) {
	doc := parseDemoDoc(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "case")
	env := vigilEnv(cliPassphrase)
	cliOK(t, env, "demo", "--case", data)

	var byIncident map[string]json.RawMessage
	if err := json.Unmarshal([]byte(cliOK(t, env, "figures", "--data", data, "--by", "incident", "--json")), &byIncident); err != nil {
		t.Fatal(err)
	}
	var incidentID string
	for k := range byIncident {
		incidentID = k
	}
	for _, test := range []struct{ lang, incident, want string }{
		{"en", "spring-2017", "Incident report"},
		{"ru", "spring-2017", "Отчёт об инциденте"},
		{"ru", incidentID, "Пострадавшие: подтверждено не менее 44, сообщается о не более чем 144"},
	} {
		out := filepath.Join(dir, test.lang+"-"+test.incident+".pdf")
		if s := cliOK(t, env, "report", "--data", data, "--incident", test.incident, "--out", out, "--lang", test.lang); s != "" {
			t.Errorf("report printed %q on stdout", s)
		}
		text := pdfText(t, out)
		for _, w := range []string{test.want, incidentID, "44 / 144"} {
			if !strings.Contains(text, w) {
				t.Errorf("%s: PDF text lacks %q", out, w)
			}
		}
		for key := range doc.acts {
			if !strings.Contains(text, key) {
				t.Errorf("%s: PDF text lacks act %s", out, key)
			}
		}
	}

	out := filepath.Join(dir, "fail.pdf")
	for _, test := range []struct {
		want []string
		args []string
	}{
		{[]string{"need --incident"}, []string{"report", "--data", data, "--out", out}},
		{[]string{"need --incident"}, []string{"report", "--data", data, "--incident", "spring-2017"}},
		{[]string{`no incident with ID or key "nope"`}, []string{"report", "--data", data, "--incident", "nope", "--out", out}},
		{[]string{"no incident with ID or key"}, []string{"report", "--data", data, "--incident", "0000000000000000000000000a", "--out", out}},
		{[]string{`--lang "de"`}, []string{"report", "--data", data, "--incident", "spring-2017", "--out", out, "--lang", "de"}},
		{[]string{"takes no arguments"}, []string{"report", "--data", data, "--incident", "spring-2017", "--out", out, "extra"}},
	} {
		cliFail(t, data, env, test.want, test.args...)
	}
	cliFail(t, data, vigilEnv("wrong passphrase"), nil, "report", "--data", data, "--incident", "spring-2017", "--out", out)
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed report left its output file")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".fail.pdf.tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func pdfText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var all []string
	for i := 1; i <= rd.NumPage(); i++ {
		s, err := rd.Page(i).GetPlainText(nil)
		if err != nil {
			t.Fatalf("%s page %d: %v", path, i, err)
		}
		all = append(all, s)
	}
	return strings.Join(strings.Fields(strings.Join(all, "\n")), " ")
}
