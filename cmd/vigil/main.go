// Command vigil runs a vigil instance: it keeps testimonies and files
// encrypted, records them in a tamper-evident evidence log, and exports
// evidence bundles that anyone can verify offline.
//
// Usage:
//
//	vigil init    --data DIR [--name ORG] [--origin ORIGIN]  create a data directory and keys
//	vigil add     --data DIR FILE|DIR...             ingest files into the vault and the log
//	vigil serve   --data DIR [--public ADDR] [--staff ADDR]
//	vigil unseal  [--staff ADDR]                     unseal a running server
//	vigil seal    [--staff ADDR]                     seal a running server
//	vigil bundle  --data DIR --out FILE [--no-content] ITEM...
//	vigil verify  FILE --log-key VKEY                check a bundle offline
//	vigil verify  FILE --key VKEY                    check an advisory or statistics file offline
//	vigil advisory create|list|withdraw --data DIR  signed public advisories
//	vigil stats publish --data DIR                   signed public statistics
//	vigil fsck    --data DIR                         check the log, the checkpoint and the blobs
//	vigil backup  --data DIR --to PATH               encrypted, incremental backup
//	vigil restore --from PATH --data NEWDIR [--known-checkpoint FILE]
//	vigil migrate --from DIR --to postgres://… --blobs s3://…|NEWDIR   copy to new backends and verify
//	vigil key export-identity --data DIR             write the age identity to stdout
//	vigil token create --data DIR --name NAME        make a staff API token (also: list, revoke ID)
//	vigil account create --data DIR --name NAME --role admin   make a staff web account (also: list, role, disable, enable)
//	vigil inbox --data DIR [ID]                      list or read submissions (also: reply, state, file)
//	vigil acts --data DIR [--json] [--lang en|ru]    every act: status, flags, explanation
//	vigil figures --data DIR [--json] [--by type|month|place|incident]
//	vigil report --data DIR --incident ID --out FILE [--lang en|ru]   an incident's PDF report
//	vigil search --data DIR [--json] [--kind K] [--limit N] QUERY...   full text, names across scripts
//	vigil config check --data DIR                    check vigil.json (docs/config.md)
//	vigil demo [--case DIR]                          a throwaway instance with sample files and a worked case
//	vigil version                                    module version, VCS revision, Go version (also --version)
//	vigil completion bash|zsh|fish                   a shell completion script
//	vigil help COMMAND                               a command's flags and examples
//
// Every command takes --data DIR (default $VIGIL_DATA, else ./vigil-data).
// While vigil serve runs, token, inbox, bundle, fsck, acts, figures,
// search, import and export reach it over its staff socket DIR/staff.sock
// instead of opening the directory (docs/cli.md).
// The admin passphrase comes from --passphrase-file FILE, else the
// VIGIL_PASSPHRASE environment variable (for scripts and tests), else a
// prompt on the terminal. Exit status is 0 on success; otherwise vigil prints
// one line, "vigil: ...", on stderr and exits 1 (2 for usage errors).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	if err := harden(); err != nil {
		fmt.Fprintf(os.Stderr, "vigil: cannot keep keys out of core dumps: %v\n", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a command runs with: streams and the process environment.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// flagSets, when set, collects every FlagSet a command makes (for
	// completion scripts and the examples' check).
	flagSets *[]*flag.FlagSet
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"init", "create a data directory and its keys", runInit},
		{"add", "ingest files into the vault and the evidence log", runAdd},
		{"serve", "run the public and staff listeners", runServe},
		{"unseal", "unseal a running server's vault", runUnseal},
		{"seal", "seal a running server's vault", runSeal},
		{"bundle", "export items with proofs as an evidence bundle", runBundle},
		{"verify", "verify an evidence bundle, an advisory or a statistics file offline", runVerify},
		{"fsck", "check the log, the checkpoint anchor and the blobs", runFsck},
		{"backup", "write an encrypted, incremental backup (while serve runs too)", runBackup},
		{"restore", "rebuild a data directory from a backup, refusing a rollback", runRestore},
		{"migrate", "copy records, log and blobs to PostgreSQL + S3 or a new directory, and verify", runMigrate},
		{"key", "key operations: export-identity", runKey},
		{"token", "staff API tokens: create, list, revoke", runToken},
		{"account", "staff web accounts: create, list, role, disable, enable", runAccount},
		{"inbox", "list and read submissions, reply, change state", runInbox},
		{"import", "import a vigil-case/1 file (all or nothing)", runImport},
		{"export", "export the case records as vigil-case/1 JSON or CSV", runExport},
		{"acts", "every act with its corroboration status, flags and explanation", runActs},
		{"search", "full-text search of the case records and submissions, names across scripts", runSearch},
		{"figures", "confirmed-at-least and reported-up-to figures by type, month, place or incident", runFigures},
		{"report", "an incident's report as a PDF (English or Russian) with leaves and checkpoint", runReport},
		{"advisory", "signed public advisories: create, list, withdraw", runAdvisory},
		{"stats", "publish signed statistics with small counts hidden", runStats},
		{"witness", "cosign other logs' checkpoints (C2SP tlog-witness)", runWitness},
		{"config", "check vigil.json: every unknown key and bad value (config check)", runConfig},
		{"demo", "run a throwaway instance with sample files and a worked case", runDemo},
		{"version", "the module version, VCS revision and Go version of this binary", runVersion},
		{"completion", "a shell completion script: bash, zsh or fish", runCompletion},
		{"help", "a command's flags and examples: vigil help COMMAND", runHelp},
	}
}

// usageError is reported with exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Main runs vigil with args and returns the exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || len(args) == 1 && args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			if err != nil {
				fmt.Fprintf(stderr, "vigil %s: %s\n", c.name, oneLine(err.Error()))
				var ue usageError
				if errors.As(err, &ue) {
					return 2
				}
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "vigil: unknown command %q (try vigil --help)\n", args[0])
	return 2
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "vigil keeps testimonies and files encrypted, logs them in a tamper-evident log,\nand exports evidence bundles anyone can verify offline.\n\nUsage: vigil COMMAND [flags] [args]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun vigil help COMMAND for a command's flags and examples.\n")
}

// newFlags returns a FlagSet for a command, printing help to e.stdout.
func newFlags(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors are reported once, by Main, on one line
	if e.flagSets != nil {
		*e.flagSets = append(*e.flagSets, fs)
	}
	fs.Usage = func() {
		fs.SetOutput(e.stdout)
		fmt.Fprintf(e.stdout, "Usage: vigil %s %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before, between or after positional
// arguments, and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// dataFlag adds --data with its default, $VIGIL_DATA else vigil-data. The
// help names the default once, in words: the flag's value reports "" until
// set, so PrintDefaults adds no second "(default ...)".
func dataFlag(fs *flag.FlagSet, e *env) *string {
	v := &dataValue{p: new(string)}
	if *v.p = e.getenv("VIGIL_DATA"); *v.p == "" {
		*v.p = "vigil-data"
	}
	fs.Var(v, "data", "data directory `DIR` (default $VIGIL_DATA, else ./vigil-data)")
	return v.p
}

// dataValue is --data's flag.Value.
type dataValue struct {
	p   *string
	set bool
}

func (v *dataValue) String() string {
	if v == nil || !v.set {
		return ""
	}
	return *v.p
}

func (v *dataValue) Set(s string) error {
	if s == "" {
		return errors.New("empty data directory")
	}
	*v.p, v.set = s, true
	return nil
}
