package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/api"
)

// vigil advisory create, list and withdraw work the same while vigil serve
// holds the data directory (through its staff socket) as offline; a sealed
// server says so where the vault is needed; key create-advisory, which
// rewrites keys.age, refuses while serving and says to stop serve.
func TestAdvisoryWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	data, _, _ := cliInit(t)
	env := vigilEnv(cliPassphrase)
	sealedEnv := vigilEnv("")

	published := regexp.MustCompile(`^Published advisory ([0-9a-z]{26}) \(public at /advisories/([0-9a-z]{26})\.txt\):\n\n`)
	publish := func(env []string, args ...string) string {
		t.Helper()
		out := cliOK(t, env, args...)
		m := published.FindStringSubmatch(out)
		if m == nil || m[1] != m[2] {
			t.Fatalf("vigil %s printed %q", strings.Join(args, " "), out)
		}
		return m[1]
	}
	until := "2099-01-01T00:00:00Z"
	offID := publish(env, "advisory", "create", "--data", data, "--text", "en=Leave the district tonight", "--text", "ru=Покиньте район", "--until", until)
	lists := [][]string{
		{"advisory", "list", "--data", data},
		{"advisory", "list", "--data", data, "--json"},
	}
	offline := map[string]string{}
	for _, args := range lists {
		offline[strings.Join(args, " ")] = cliOK(t, sealedEnv, args...)
	}
	if !strings.Contains(offline["advisory list --data "+data], offID+"  current") {
		t.Fatalf("advisory list offline:\n%s", offline["advisory list --data "+data])
	}

	s := serveStart(t, bin, env, data)
	for _, args := range lists {
		if got, want := cliOK(t, sealedEnv, args...), offline[strings.Join(args, " ")]; got != want {
			t.Errorf("vigil %s while serving:\n%s\noffline:\n%s", strings.Join(args, " "), got, want)
		}
	}
	onID := publish(sealedEnv, "advisory", "create", "--data", data, "--text", "en=Checkpoint on the bridge", "--for", "72h")
	wID := publish(sealedEnv, "advisory", "withdraw", "--data", data, offID)
	servingFail(t, sealedEnv, []string{"not found"}, "advisory", "withdraw", "--data", data, "0000000000000000000000000g")
	servingFail(t, sealedEnv, []string{"invalid"}, "advisory", "create", "--data", data, "--text", "xx-not-a-lang!=hi", "--for", "1h")
	// key create-advisory on a directory without the key (as one made
	// before the key existed): it would rewrite keys.age under the server.
	cfgPath := filepath.Join(data, "vigil.json")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	noKey := regexp.MustCompile(`"advisory_vkey":\s*"[^"]*",?`).ReplaceAll(cfg, nil)
	if bytes.Equal(noKey, cfg) {
		t.Fatalf("vigil.json has no advisory_vkey:\n%s", cfg)
	}
	os.WriteFile(cfgPath, noKey, 0o600)
	servingFail(t, env, []string{"vigil serve holds", "stop it", "start it again"}, "key", "create-advisory", "--data", data)
	os.WriteFile(cfgPath, cfg, 0o600)
	online := map[string]string{}
	for _, args := range lists {
		online[strings.Join(args, " ")] = cliOK(t, sealedEnv, args...)
	}
	l := online["advisory list --data "+data]
	for _, want := range []string{onID + "  current", offID + "  withdrawn", wID + "  withdrawal"} {
		if !strings.Contains(l, want) {
			t.Errorf("advisory list while serving does not show %q:\n%s", want, l)
		}
	}

	// Sealed: publishing needs the signing key in the vault; the list does not.
	cliOK(t, env, "seal", "--staff", s.staff)
	servingFail(t, sealedEnv, []string{"sealed", "vigil unseal"}, "advisory", "create", "--data", data, "--text", "en=x", "--for", "1h")
	servingFail(t, sealedEnv, []string{"sealed", "vigil unseal"}, "advisory", "withdraw", "--data", data, onID)
	if got := cliOK(t, sealedEnv, lists[0]...); got != l {
		t.Errorf("advisory list from a sealed server:\n%s\nunsealed:\n%s", got, l)
	}
	s.stop(t)
	for _, args := range lists {
		if got, want := cliOK(t, sealedEnv, args...), online[strings.Join(args, " ")]; got != want {
			t.Errorf("vigil %s offline after serving:\n%s\nwhile serving:\n%s", strings.Join(args, " "), got, want)
		}
	}
}

// vigil account create, list, role, disable and enable work the same while
// vigil serve holds the data directory as offline; create works on a
// sealed server (as offline, without the admin passphrase), the others say
// the server is sealed.
func TestAccountWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	data, _, _ := cliInit(t)
	env := append(vigilEnv(cliPassphrase), "VIGIL_ACCOUNT_PASSPHRASE=correct horse battery staple")
	sealedEnv := append(vigilEnv(""), "VIGIL_ACCOUNT_PASSPHRASE=correct horse battery staple")
	idLine := regexp.MustCompile(`^[0-9a-z]{26}\n$`)
	create := func(env []string, name, role string) string {
		t.Helper()
		out := cliOK(t, env, "account", "create", "--data", data, "--name", name, "--role", role)
		if !idLine.MatchString(out) {
			t.Fatalf("account create %s printed %q", name, out)
		}
		return strings.TrimSpace(out)
	}
	change := func(env []string, args ...string) {
		t.Helper()
		out := cliOK(t, env, append([]string{"account", args[0], "--data", data}, args[1:]...)...)
		if !regexp.MustCompile(`^` + args[0] + ` [0-9a-z]{26}\n$`).MatchString(out) {
			t.Errorf("account %s printed %q", strings.Join(args, " "), out)
		}
	}
	list := []string{"account", "list", "--data", data}

	alice := create(sealedEnv, "alice", "admin")
	change(env, "role", "alice", "analyst")
	change(env, "disable", "alice")
	change(env, "enable", alice)
	offList := cliOK(t, env, list...)
	if !strings.Contains(offList, alice+"  analyst") {
		t.Fatalf("account list offline:\n%s", offList)
	}

	s := serveStart(t, bin, env, data)
	if got := cliOK(t, sealedEnv, list...); got != offList {
		t.Errorf("account list while serving:\n%s\noffline:\n%s", got, offList)
	}
	bob := create(sealedEnv, "bob", "intake")
	change(sealedEnv, "role", "bob", "investigator")
	change(sealedEnv, "disable", "bob")
	servingFail(t, sealedEnv, []string{"not found"}, "account", "enable", "--data", data, "bob") // disabled: only by ID
	change(sealedEnv, "enable", bob)
	servingFail(t, sealedEnv, []string{"not found"}, "account", "role", "--data", data, "nobody", "admin")
	servingFail(t, sealedEnv, []string{"conflict"}, "account", "create", "--data", data, "--name", "alice")
	onList := cliOK(t, sealedEnv, list...)
	if !strings.Contains(onList, bob+"  investigator") || !strings.Contains(onList, alice+"  analyst") {
		t.Errorf("account list while serving:\n%s", onList)
	}

	// Sealed: create needs only the public recipient; the rest the vault.
	cliOK(t, env, "seal", "--staff", s.staff)
	carol := create(sealedEnv, "carol", "analyst")
	servingFail(t, sealedEnv, []string{"sealed", "vigil unseal"}, list...)
	servingFail(t, sealedEnv, []string{"sealed", "vigil unseal"}, "account", "disable", "--data", data, bob)
	s.stop(t)
	got := cliOK(t, env, list...)
	if !strings.HasPrefix(got, strings.TrimSuffix(onList, "\n")) && !strings.Contains(got, carol+"  analyst") {
		t.Errorf("account list offline after serving:\n%s\nwhile serving:\n%s", got, onList)
	}
	for _, l := range strings.Split(strings.TrimSpace(onList), "\n") {
		if !strings.Contains(got, l) {
			t.Errorf("account list offline after serving lacks %q:\n%s", l, got)
		}
	}
	if !strings.Contains(got, carol+"  analyst") {
		t.Errorf("account list offline lacks the account made on the sealed server:\n%s", got)
	}
}

// vigil add works while vigil serve holds the data directory: each file is
// streamed to the server, which ingests it through the same evidence
// service, and the command prints the same "ID<TAB>leaf<TAB>path" lines;
// like offline, it works sealed. fsck with the passphrase afterwards checks
// every item decrypts to its logged hash.
func TestAddWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	data, _, vkey := cliInit(t)
	env := vigilEnv(cliPassphrase)
	sealedEnv := vigilEnv("")
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	line := regexp.MustCompile(`^([0-9a-z]{26})\t(\d+)\t(.+)\n$`)
	add := func(env []string, path string) (id string, leaf int) {
		t.Helper()
		out := cliOK(t, env, "add", "--data", data, "-q", path)
		m := line.FindStringSubmatch(out)
		if m == nil || m[3] != path {
			t.Fatalf("vigil add %s printed %q", path, out)
		}
		n, _ := strconv.Atoi(m[2])
		return m[1], n
	}
	_, offLeaf := add(sealedEnv, write("offline.txt", []byte("offline")))
	s := serveStart(t, bin, env, data)
	big := bytes.Repeat([]byte("vigil evidence "), 1<<20) // 15 MiB, streamed
	onID, onLeaf := add(sealedEnv, write("a photo ü.jpg", big))
	if onLeaf <= offLeaf {
		t.Errorf("leaf while serving %d, offline before %d", onLeaf, offLeaf)
	}
	servingFail(t, sealedEnv, []string{"cannot read", "nothing was added"}, "add", "--data", data, filepath.Join(dir, "missing"))
	// On the staff listener the new routes are for admin tokens only.
	intakeTok := strings.TrimSpace(cliOK(t, sealedEnv, "token", "create", "--data", data, "--name", "uploader", "--role", "intake"))
	for _, r := range []struct{ method, path, ct string }{
		{"POST", "api/v1/items", "application/octet-stream"},
		{"GET", "api/v1/accounts", ""},
		{"POST", "api/v1/accounts", "application/json"},
		{"POST", "api/v1/accounts/change", "application/json"},
	} {
		req, _ := http.NewRequest(r.method, s.staff+r.path, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+intakeTok)
		req.Header.Set(api.ItemNameHeader, "x.txt")
		if r.ct != "" {
			req.Header.Set("Content-Type", r.ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s /%s with an intake token: %d, want 403", r.method, r.path, resp.StatusCode)
		}
	}
	cliOK(t, env, "seal", "--staff", s.staff)
	_, sealedLeaf := add(sealedEnv, write("sealed.txt", []byte("added to a sealed server")))
	if sealedLeaf <= onLeaf {
		t.Errorf("leaf on the sealed server %d, before %d", sealedLeaf, onLeaf)
	}
	s.stop(t)
	if out := cliOK(t, env, "fsck", "--data", data); strings.Contains(out, "PROBLEM") {
		t.Errorf("fsck after adding while serving:\n%s", out)
	}
	out := filepath.Join(dir, "b.zip")
	cliOK(t, env, "bundle", "--data", data, "--out", out, onID)
	if v := cliOK(t, env, "verify", out, "--log-key", vkey); !strings.Contains(v, "OK ") {
		t.Errorf("verify of the item added while serving:\n%s", v)
	}
}

// vigil stats publish works the same while vigil serve holds the worked
// case's data directory (over its staff socket) as offline, and a sealed
// server says so: the publication key is in the vault.
func TestStatsWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	data := filepath.Join(t.TempDir(), "case")
	env := vigilEnv(cliPassphrase)
	sealedEnv := vigilEnv("")
	cliOK(t, env, "demo", "--case", data)
	id := regexp.MustCompile(`^Published statistics [0-9a-z]{26}: `)
	publish := func(env []string) string {
		t.Helper()
		out := cliOK(t, env, "stats", "publish", "--data", data, "--k", "2")
		if !id.MatchString(out) {
			t.Fatalf("stats publish printed %q", out)
		}
		return id.ReplaceAllString(out, "")
	}
	offline := publish(env)
	s := serveStart(t, bin, env, data)
	if online := publish(sealedEnv); online != offline {
		t.Errorf("stats publish while serving: %q, offline %q", online, offline)
	}
	cliOK(t, env, "seal", "--staff", s.staff)
	servingFail(t, sealedEnv, []string{"sealed", "vigil unseal"}, "stats", "publish", "--data", data)
	s.stop(t)
	if out := cliOK(t, env, "fsck", "--data", data); strings.Contains(out, "PROBLEM") {
		t.Errorf("fsck after publishing while serving:\n%s", out)
	}
}

// vigil report works while vigil serve holds the worked case's data
// directory: the server renders the PDF, proved against its latest
// published checkpoint, and it reads as the offline one; a sealed server
// says so, and no file is written.
func TestReportWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the vigil binary")
	}
	bin := vigilBin(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "case")
	env := vigilEnv(cliPassphrase)
	sealedEnv := vigilEnv("")
	cliOK(t, env, "demo", "--case", data)
	offPDF, onPDF := filepath.Join(dir, "off.pdf"), filepath.Join(dir, "on.pdf")
	cliOK(t, env, "report", "--data", data, "--incident", "spring-2017", "--out", offPDF, "--lang", "ru")
	s := serveStart(t, bin, env, data)
	if out := cliOK(t, sealedEnv, "report", "--data", data, "--incident", "spring-2017", "--out", onPDF, "--lang", "ru"); out != "" {
		t.Errorf("report printed %q on stdout", out)
	}
	off, on := pdfText(t, offPDF), pdfText(t, onPDF)
	if on != off {
		t.Errorf("report while serving reads\n%s\noffline\n%s", on, off)
	}
	if !strings.Contains(on, "Отчёт об инциденте") {
		t.Errorf("report while serving:\n%s", on)
	}
	failPDF := filepath.Join(dir, "fail.pdf")
	servingFail(t, sealedEnv, []string{"not found"}, "report", "--data", data, "--incident", "nope", "--out", failPDF)
	cliOK(t, env, "seal", "--staff", s.staff)
	servingFail(t, sealedEnv, []string{"sealed", "vigil unseal"}, "report", "--data", data, "--incident", "spring-2017", "--out", failPDF)
	s.stop(t)
	if _, err := os.Stat(failPDF); err == nil {
		t.Errorf("a failed report wrote %s", failPDF)
	}
}
