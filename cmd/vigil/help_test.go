package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestVersion: vigil version and vigil --version print the same module,
// revision line and Go version, the one the binary was built with.
func TestVersion(t *testing.T) {
	env := vigilEnv("")
	a := cliOK(t, env, "version")
	b := cliOK(t, env, "--version")
	if a != b {
		t.Errorf("version and --version differ:\n%s\n%s", a, b)
	}
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"vigil ", "module   github.com/vigil-hr/vigil\n", "revision ", "go       " + strings.TrimSpace(string(out)) + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"} {
		if !strings.Contains(a, want) {
			t.Errorf("vigil version does not say %q:\n%s", want, a)
		}
	}
	if r := cliRun(t, env, "version", "extra"); r.code != 2 {
		t.Errorf("version extra: exit %d, want 2", r.code)
	}
}

// TestVersionRevision: the revision line reports the build's VCS settings.
func TestVersionRevision(t *testing.T) {
	var buf bytes.Buffer
	versionInfo{Module: "m", Version: "v1.2.3", Revision: "abc123", Time: "2026-01-02T03:04:05Z", Go: "go1.26.8", Platform: "linux/arm64"}.write(&buf)
	want := "vigil v1.2.3\nmodule   m\nrevision abc123\ncommit   2026-01-02T03:04:05Z\ngo       go1.26.8 linux/arm64\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	versionInfo{Module: "m", Version: "(devel)", Revision: "abc123", Modified: true, Go: "go1.26.8", Platform: "linux/amd64"}.write(&buf)
	if !strings.Contains(buf.String(), "revision abc123 (with uncommitted changes)\n") {
		t.Errorf("a modified tree is not reported:\n%s", buf.String())
	}
}

// TestDataHelpDefaultOnce: --data's help names its default once.
func TestDataHelpDefaultOnce(t *testing.T) {
	for _, c := range []string{"init", "add", "fsck", "inbox"} {
		out := cliOK(t, vigilEnv(""), c, "--help")
		if n := strings.Count(out, "vigil-data"); n != 1 {
			t.Errorf("vigil %s --help names the default data directory %d times:\n%s", c, n, out)
		}
	}
	// The default still applies, and $VIGIL_DATA overrides it.
	var got []string
	for _, getenv := range []func(string) string{
		func(string) string { return "" },
		func(k string) string { return map[string]string{"VIGIL_DATA": "/srv/v"}[k] },
	} {
		e := &env{stdout: &bytes.Buffer{}, getenv: getenv}
		got = append(got, *dataFlag(newFlags(e, "x", ""), e))
	}
	fs := newFlags(&env{stdout: &bytes.Buffer{}, getenv: os.Getenv}, "x", "")
	p := dataFlag(fs, &env{getenv: func(string) string { return "" }})
	if err := fs.Parse([]string{"--data", "/d"}); err != nil {
		t.Fatal(err)
	}
	got = append(got, *p)
	if err := fs.Parse([]string{"--data", ""}); err == nil {
		t.Error("--data '' accepted")
	}
	if want := []string{"vigil-data", "/srv/v", "/d"}; !slices.Equal(got, want) {
		t.Errorf("data dirs %q, want %q", got, want)
	}
}

// TestHelpExamples: vigil help COMMAND shows the command's flags and
// examples for every command, and every flag an example uses exists.
func TestHelpExamples(t *testing.T) {
	env := vigilEnv("")
	for _, c := range commands {
		ex := examples[c.name]
		if len(ex) == 0 {
			t.Errorf("no examples for %s", c.name)
			continue
		}
		flags := map[string]bool{}
		for _, f := range commandFlags(c) {
			flags[f.Name] = true
		}
		for _, x := range ex {
			for _, call := range exampleCalls(x.line) {
				if call[0] != c.name && c.name != "version" {
					t.Errorf("%s's example runs vigil %s: %s", c.name, call[0], x.line)
				}
				if call[0] != c.name {
					continue
				}
				for _, a := range call[1:] {
					if name, ok := strings.CutPrefix(a, "-"); ok && a != "-" {
						name = strings.TrimPrefix(name, "-")
						name, _, _ = strings.Cut(name, "=")
						if !flags[name] {
							t.Errorf("%s's example uses unknown flag %s: %s", c.name, a, x.line)
						}
					}
				}
			}
		}
		r := cliRun(t, env, "help", c.name)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: vigil ") || !strings.Contains(r.stdout, "Examples:\n") || !strings.Contains(r.stdout, ex[0].line) {
			t.Errorf("vigil help %s: exit %d\n%s%s", c.name, r.code, r.stdout, r.stderr)
		}
	}
	if r := cliRun(t, env, "help", "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, "frobnicate") {
		t.Errorf("help frobnicate: exit %d %q", r.code, r.stderr)
	}
	if r := cliRun(t, env, "help"); r.code != 0 || !strings.Contains(r.stdout, "completion") || !strings.Contains(r.stdout, "version") {
		t.Errorf("help: exit %d\n%s", r.code, r.stdout)
	}
}

// exampleCalls splits an example line into its vigil calls (command and
// arguments, quotes removed; no shell beyond quotes, && and ;).
func exampleCalls(line string) [][]string {
	var calls [][]string
	var words []string
	var cur strings.Builder
	var quote rune
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	end := func() {
		flush()
		for i, w := range words {
			if w == "vigil" && i+1 < len(words) {
				calls = append(calls, words[i+1:])
				break
			}
		}
		words = nil
	}
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ':
			flush()
		case r == ';' || r == '(' || r == ')' || r == '>' || r == '<':
			flush()
			if r == ';' {
				end()
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
		if cur.String() == "&&" {
			cur.Reset()
			inWord = false
			end()
		}
	}
	end()
	for i, c := range calls { // drop redirections' targets: "> out" was split off
		calls[i] = slices.DeleteFunc(c, func(s string) bool { return s == "" })
	}
	return calls
}

// TestCompletionTable: the completion scripts know every command, the
// subcommands and the flags of each command, and the fixed value lists name
// flags that exist.
func TestCompletionTable(t *testing.T) {
	tab := completionTable()
	if len(tab) != len(commands) {
		t.Fatalf("%d commands in the completion table, %d in vigil", len(tab), len(commands))
	}
	all := map[string]bool{}
	for _, c := range tab {
		for _, f := range c.flags {
			all[f.name] = true
		}
		if c.name == "serve" && !slices.ContainsFunc(c.flags, func(f compFlag) bool { return f.name == "staff-host" && f.takesValue }) {
			t.Errorf("serve's flags lack --staff-host: %+v", c.flags)
		}
		if c.name == "acts" && !slices.ContainsFunc(c.flags, func(f compFlag) bool { return f.name == "json" && !f.takesValue }) {
			t.Errorf("acts --json is not a boolean flag: %+v", c.flags)
		}
	}
	for name := range flagValues {
		if !all[name] {
			t.Errorf("flagValues names --%s, which no command has", name)
		}
	}
	for _, name := range fileFlags {
		if !all[name] {
			t.Errorf("fileFlags names --%s, which no command has", name)
		}
	}
	for c := range subcommands {
		if _, ok := findCommand(c); !ok {
			t.Errorf("subcommands of unknown command %s", c)
		}
	}
	var buf bytes.Buffer
	e := &env{stdout: &buf, stderr: &buf, getenv: func(string) string { return "" }}
	if err := runCompletion(context.Background(), e, []string{"tcsh"}); err == nil {
		t.Error("completion tcsh accepted")
	}
}
