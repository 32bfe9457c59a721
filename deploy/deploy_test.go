// The deployment files checked with the tools that read them (see doc.go).
package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/internal/testneed"
)

func need(t *testing.T, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		testneed.Skip(t, "VIGIL_REQUIRE_DEPLOY", fmt.Sprintf("%s not found (apt-get install %s)", tool, pkg))
	}
	return p
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// listeners returns the --public and --staff addresses of the unit's
// ExecStart: what the torrc files must and must not forward to.
func listeners(t *testing.T) (public, staff string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^ExecStart=.*$`).FindString(read(t, "vigil.service"))
	f := strings.Fields(m)
	for i := 0; i+1 < len(f); i++ {
		switch f[i] {
		case "--public":
			public = f[i+1]
		case "--staff":
			staff = f[i+1]
		}
	}
	if public == "" || staff == "" || public == staff {
		t.Fatalf("ExecStart does not name distinct --public and --staff addresses: %q", m)
	}
	return public, staff
}

// ports returns the targets of a torrc's HiddenServicePort lines.
func ports(torrc string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?mi)^\s*HiddenServicePort\s+\S+\s+(\S+)`).FindAllStringSubmatch(torrc, -1) {
		out = append(out, m[1])
	}
	return out
}

// verifyTor runs tor --verify-config on text, its /var/lib/tor paths moved
// under a temporary directory (tor checks the ownership of the real ones).
func verifyTor(t *testing.T, tor, text string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "torrc")
	text = strings.ReplaceAll(text, "/var/lib/tor", filepath.Join(dir, "tor"))
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tor, "--verify-config", "-f", f, "--defaults-torrc", os.DevNull).CombinedOutput()
	return string(out), err
}

// TestTorrc: tor accepts deploy/torrc alone and with deploy/torrc-staff;
// the public onion service forwards to the public listener only, the staff
// one to the staff listener only.
func TestTorrc(t *testing.T) {
	public, staff := listeners(t)
	torrc, staffrc := read(t, "torrc"), read(t, "torrc-staff")
	if p := ports(torrc); len(p) == 0 || slices.ContainsFunc(p, func(s string) bool { return s != public }) {
		t.Errorf("torrc forwards to %q; want only the public listener %s", p, public)
	}
	if p := ports(staffrc); len(p) == 0 || slices.ContainsFunc(p, func(s string) bool { return s != staff }) {
		t.Errorf("torrc-staff forwards to %q; want only the staff listener %s", p, staff)
	}
	if !strings.Contains(staffrc, "authorized_clients") {
		t.Error("torrc-staff does not say how its clients are authorized")
	}

	tor := need(t, "tor", "tor")
	for name, text := range map[string]string{"torrc": torrc, "torrc + torrc-staff": torrc + "\n" + staffrc} {
		out, err := verifyTor(t, tor, text)
		if err != nil || !strings.Contains(out, "Configuration was valid") {
			t.Errorf("tor --verify-config -f %s: %v\n%s", name, err, out)
		} else {
			t.Logf("tor --verify-config -f %s: %s", name, lastLine(out))
		}
	}
	// The check can fail: a misspelt option is refused.
	if out, err := verifyTor(t, tor, strings.Replace(torrc, "\nHiddenServicePort ", "\nHiddenServicePorts ", 1)); err == nil {
		t.Errorf("tor accepted a misspelt option:\n%s", out)
	}
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}

// unitWithBinary writes the unit to a temporary directory with ExecStart
// pointing at an executable there (systemd-analyze checks that it exists).
func unitWithBinary(t *testing.T, unit string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "vigil")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "vigil.service")
	if err := os.WriteFile(f, []byte(strings.ReplaceAll(unit, "/usr/local/bin/vigil", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSystemdUnit: systemd-analyze verify finds nothing to say about the
// unit, its offline security exposure is at most 2.0 ("OK"), and the
// sandboxing directives that matter are there.
func TestSystemdUnit(t *testing.T) {
	unit := read(t, "vigil.service")
	for _, d := range []string{
		"User=vigil", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"PrivateDevices=yes", "MemoryDenyWriteExecute=yes", "LimitCORE=0", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
		"SystemCallFilter=@system-service", "CapabilityBoundingSet=\n", "ReadWritePaths=/var/lib/vigil", "LockPersonality=yes",
		"ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes",
		"UMask=0077", "RestrictNamespaces=yes", "RestrictSUIDSGID=yes", "SystemCallArchitectures=native",
	} {
		if !strings.Contains(unit, "\n"+d) {
			t.Errorf("vigil.service lacks %q", strings.TrimSpace(d))
		}
	}
	if !strings.Contains(unit, "--data /var/lib/vigil ") {
		t.Error("ExecStart does not use the data directory the unit makes writable")
	}
	// vigil calls setrlimit(RLIMIT_CORE) and prctl(PR_SET_DUMPABLE) at start
	// and exits if they fail: the filter must not deny them.
	for _, deny := range regexp.MustCompile(`(?m)^SystemCallFilter=~(.*)$`).FindAllStringSubmatch(unit, -1) {
		if strings.Contains(deny[1], "@resources") || strings.Contains(deny[1], "setrlimit") || strings.Contains(deny[1], "prctl") {
			t.Errorf("SystemCallFilter denies what vigil needs at start: %s", deny[0])
		}
	}

	sa := need(t, "systemd-analyze", "systemd")
	f := unitWithBinary(t, unit)
	out, err := exec.Command(sa, "verify", f).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(sa, "security", "--offline=true", "--threshold=20", f).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security --offline=true --threshold=20 (exposure above 2.0): %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`Overall exposure level for [^:]+: ([0-9.]+) \S+`).FindSubmatch(out); m == nil {
		t.Errorf("systemd-analyze security printed no exposure level:\n%s", out)
	} else {
		t.Logf("systemd-analyze verify: no findings; security --offline: %s", m[0])
	}
	// The check can fail: a misspelt directive and a bad value are reported.
	bad := unitWithBinary(t, strings.Replace(strings.Replace(unit, "ProtectSystem=", "ProtectSystm=", 1), "UMask=0077", "UMask=banana", 1))
	if out, _ := exec.Command(sa, "verify", bad).CombinedOutput(); !strings.Contains(string(out), "ProtectSystm") || !strings.Contains(string(out), "banana") {
		t.Errorf("systemd-analyze verify did not report a misspelt directive and a bad value:\n%s", out)
	}
}

// An instruction is one Containerfile instruction: its keyword and the
// rest of its (continued) line.
type instruction struct{ op, args string }

func parseContainerfile(text string) []instruction {
	var out []instruction
	var cur strings.Builder
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if cur.Len() == 0 && (strings.HasPrefix(strings.TrimSpace(line), "#") || strings.TrimSpace(line) == "") {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		op, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, instruction{strings.ToUpper(op), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// TestContainerfile checks deploy/Containerfile's structure: a build stage
// and a distroless or scratch final stage; the final stage runs as a
// non-root user, keeps the data directory in a volume and runs vigil in exec
// form with the staff listener on loopback; the build uses the release
// flags of the Makefile. (No container engine is available to build it.)
func TestContainerfile(t *testing.T) {
	ins := parseContainerfile(read(t, "Containerfile"))
	known := []string{"FROM", "RUN", "COPY", "WORKDIR", "ARG", "ENV", "USER", "VOLUME", "EXPOSE", "ENTRYPOINT", "CMD", "LABEL"}
	var stages [][]instruction
	for _, in := range ins {
		if !slices.Contains(known, in.op) {
			t.Errorf("unknown or unexpected instruction %s %s", in.op, in.args)
		}
		if in.op == "ADD" {
			t.Errorf("ADD (use COPY): %s", in.args)
		}
		if in.op == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("%s before FROM", in.op)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a run stage", len(stages))
	}
	image := func(from instruction) string { // FROM [--platform=P] IMAGE [AS NAME]
		f := strings.Fields(from.args)
		for len(f) > 1 && strings.HasPrefix(f[0], "--") {
			f = f[1:]
		}
		return f[0]
	}
	for _, st := range stages {
		if img := image(st[0]); !strings.Contains(img, ":") || strings.HasSuffix(img, ":latest") {
			t.Errorf("base image %q: want a fixed tag or digest", img)
		}
	}
	final := stages[len(stages)-1]
	if img := image(final[0]); img != "scratch" && !strings.HasPrefix(img, "gcr.io/distroless/static") {
		t.Errorf("final stage FROM %s: want scratch or distroless static", img)
	}
	get := func(op string) []string {
		var v []string
		for _, in := range final {
			if in.op == op {
				v = append(v, in.args)
			}
		}
		return v
	}
	if u := get("USER"); len(u) != 1 || !regexp.MustCompile(`^[1-9][0-9]*(:[1-9][0-9]*)?$`).MatchString(u[0]) {
		t.Errorf("final stage USER %q: want one numeric non-root uid", u)
	}
	var vol []string
	if v := get("VOLUME"); len(v) != 1 || json.Unmarshal([]byte(v[0]), &vol) != nil || len(vol) != 1 {
		t.Fatalf("final stage VOLUME %q: want one, in JSON form", v)
	}
	var entry, cmd []string
	if e := get("ENTRYPOINT"); len(e) != 1 || json.Unmarshal([]byte(e[0]), &entry) != nil || len(entry) != 1 {
		t.Errorf("ENTRYPOINT %q: want the binary alone, in exec (JSON) form", e)
	}
	if c := get("CMD"); len(c) != 1 || json.Unmarshal([]byte(c[0]), &cmd) != nil {
		t.Fatalf("CMD %q: want exec (JSON) form", c)
	}
	args := strings.Join(cmd, " ")
	if !strings.HasPrefix(args, "serve ") || !strings.Contains(args, "--data "+vol[0]+" ") || !strings.Contains(args, "--staff 127.0.0.1:") {
		t.Errorf("CMD %q: want serve with --data on the volume %s and the staff listener on loopback", args, vol[0])
	}
	for _, p := range get("EXPOSE") {
		if strings.Contains(args, "--staff 127.0.0.1:"+p) {
			t.Errorf("EXPOSE %s exposes the staff listener", p)
		}
	}
	var copies string
	for _, c := range get("COPY") {
		copies += c + "\n"
	}
	if !strings.Contains(copies, "--chown=65532:65532") || !strings.Contains(copies, " "+vol[0]+"\n") {
		t.Errorf("the volume's mount point %s is not made for the runtime user:\n%s", vol[0], copies)
	}

	// The build stage uses the release environment and flags of make release.
	mk := read(t, "../Makefile")
	env := regexp.MustCompile(`(?m)^RELEASE_ENV := (.*)$`).FindStringSubmatch(mk)
	flags := regexp.MustCompile(`(?m)^RELEASE_FLAGS := (.*)$`).FindStringSubmatch(mk)
	if env == nil || flags == nil {
		t.Fatal("Makefile has no RELEASE_ENV or RELEASE_FLAGS")
	}
	var build string
	for _, in := range stages[0] {
		if in.op == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	for _, w := range append(strings.Fields(env[1]), strings.Fields(flags[1])...) {
		if w == "-buildvcs=true" {
			w = "-buildvcs=" // auto in the container: .git may be left out of the context
		}
		if !strings.Contains(build, w) {
			t.Errorf("the build stage's go build lacks %q of the Makefile's release build:\n%s", w, build)
		}
	}
}
