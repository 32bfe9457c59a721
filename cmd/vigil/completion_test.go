package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/internal/testneed"
)

// needShell returns the path of a shell, or skips the test (fails it under
// VIGIL_REQUIRE_DEPLOY=1, which CI sets after installing them).
func needShell(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testneed.Skip(t, "VIGIL_REQUIRE_DEPLOY", fmt.Sprintf("%s not found (apt-get install %s)", name, name))
	}
	return p
}

func completionScript(t *testing.T, shell string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigil."+shell)
	if err := os.WriteFile(path, []byte(cliOK(t, vigilEnv(""), "completion", shell)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompletionSyntax: each shell parses its script without running it.
func TestCompletionSyntax(t *testing.T) {
	for _, sh := range []struct{ shell, flag string }{{"bash", "-n"}, {"zsh", "-n"}, {"fish", "--no-execute"}} {
		t.Run(sh.shell, func(t *testing.T) {
			bin := needShell(t, sh.shell)
			script := completionScript(t, sh.shell)
			if out, err := exec.Command(bin, sh.flag, script).CombinedOutput(); err != nil {
				t.Fatalf("%s %s: %v\n%s", sh.shell, sh.flag, err, out)
			}
		})
	}
}

// TestCompletionBash runs the bash completion function on partial command
// lines and checks what it offers.
func TestCompletionBash(t *testing.T) {
	bash := needShell(t, "bash")
	script := completionScript(t, "bash")
	for _, tc := range []struct {
		line string // the words typed; the last one is being completed
		want []string
		not  []string
	}{
		{"vigil to", []string{"token"}, []string{"init"}},
		{"vigil ", []string{"init", "serve", "version", "completion", "help", "--version"}, nil},
		{"vigil token ", []string{"create", "list", "revoke"}, nil},
		{"vigil acts --lang ", []string{"en", "ru"}, []string{"--json"}},
		{"vigil init --or", []string{"--origin"}, nil},
		{"vigil init --", []string{"--name", "--origin", "--data", "--passphrase-file"}, []string{"--staff"}},
		{"vigil serve --st", []string{"--staff", "--staff-host"}, nil},
		{"vigil token create --role ", []string{"intake", "analyst", "investigator", "admin"}, nil},
		{"vigil completion ", []string{"bash", "zsh", "fish"}, nil},
		{"vigil help ", []string{"init", "witness"}, nil},
		{"vigil add -", []string{"-q", "--data"}, nil},
	} {
		words := strings.Split(tc.line, " ")
		var arr []string
		for _, w := range words {
			arr = append(arr, "'"+w+"'")
		}
		prog := "source " + script + "\nCOMP_WORDS=(" + strings.Join(arr, " ") + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_vigil\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		out, err := exec.Command(bash, "--norc", "--noprofile", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.line, err, out)
		}
		got := strings.Fields(string(out))
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q offers %q, want %q among them", tc.line, got, w)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(got, w) {
				t.Errorf("%q offers %q, want no %q", tc.line, got, w)
			}
		}
	}
}

// TestCompletionFish asks fish itself what it completes (complete -C).
func TestCompletionFish(t *testing.T) {
	fish := needShell(t, "fish")
	script := completionScript(t, "fish")
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"vigil tok", []string{"token"}},
		{"vigil token ", []string{"create", "list", "revoke"}},
		{"vigil acts --lang ", []string{"en", "ru"}},
		{"vigil init --", []string{"--name", "--origin"}},
	} {
		out, err := exec.Command(fish, "--no-config", "-c", "source "+script+"; complete -C '"+tc.line+"'").CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.line, err, out)
		}
		var got []string
		for l := range strings.Lines(string(out)) {
			w, _, _ := strings.Cut(strings.TrimSpace(l), "\t")
			got = append(got, w)
		}
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("fish %q offers %q, want %q among them", tc.line, got, w)
			}
		}
	}
}
