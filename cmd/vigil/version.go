package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// versionInfo is what vigil version prints: the module's version, the VCS
// revision it was built from and the Go toolchain, from the build info the
// go command embeds in every binary.
type versionInfo struct {
	Module, Version, Revision, Time, Go, Platform string
	Modified                                      bool
}

func readVersion() versionInfo {
	v := versionInfo{Module: "github.com/vigil-hr/vigil", Version: "(unknown)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Go = bi.GoVersion
	if bi.Main.Path != "" {
		v.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func (v versionInfo) write(w io.Writer) {
	fmt.Fprintf(w, "vigil %s\n", v.Version)
	fmt.Fprintf(w, "module   %s\n", v.Module)
	switch {
	case v.Revision == "":
		fmt.Fprintf(w, "revision unknown (built without VCS information)\n")
	case v.Modified:
		fmt.Fprintf(w, "revision %s (with uncommitted changes)\n", v.Revision)
	default:
		fmt.Fprintf(w, "revision %s\n", v.Revision)
	}
	if v.Time != "" {
		fmt.Fprintf(w, "commit   %s\n", v.Time)
	}
	fmt.Fprintf(w, "go       %s %s\n", v.Go, v.Platform)
}

const versionHelp = `

Prints the module version, the VCS revision the binary was built from (and
whether the tree had uncommitted changes), the commit time and the Go
toolchain, as recorded by the go command in the binary. vigil --version
prints the same. "go version -m vigil" shows the full build information,
including every dependency.`

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", versionHelp)
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError{"version takes no arguments"}
	}
	readVersion().write(e.stdout)
	return nil
}
