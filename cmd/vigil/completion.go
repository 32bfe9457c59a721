package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

const completionHelp = `bash|zsh|fish

Writes a completion script for the shell to stdout, made from vigil's own
command table and flags, so it always matches this binary:

  bash:  source <(vigil completion bash)
         or save it as /usr/share/bash-completion/completions/vigil
  zsh:   vigil completion zsh > "${fpath[1]}/_vigil"   (then restart zsh)
         or source <(vigil completion zsh)
  fish:  vigil completion fish > ~/.config/fish/completions/vigil.fish`

func runCompletion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "completion", completionHelp)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: vigil completion bash|zsh|fish"}
	}
	cmds := completionTable()
	switch pos[0] {
	case "bash":
		writeBash(e.stdout, cmds)
	case "zsh":
		writeZsh(e.stdout, cmds)
	case "fish":
		writeFish(e.stdout, cmds)
	default:
		return usageError{fmt.Sprintf("unknown shell %q: want bash, zsh or fish", pos[0])}
	}
	return nil
}

// subcommands are the words that may follow a command.
var subcommands = map[string][]string{
	"key":        {"export-identity"},
	"token":      {"create", "list", "revoke"},
	"inbox":      {"reply", "state", "file"},
	"completion": {"bash", "zsh", "fish"},
}

// flagValues are the values a flag takes, for flags with a fixed set;
// other flags that take a value complete file names.
var flagValues = map[string][]string{
	"lang":   {"en", "ru"},
	"format": {"json", "csv"},
	"by":     {"type", "month", "place", "incident"},
	"role":   {"intake", "analyst", "investigator", "admin"},
	"kind":   {"incident", "act", "person", "place", "party", "source", "claim"},
}

// fileFlags take a file or directory name whatever their help calls it.
var fileFlags = []string{"data", "out", "case", "policy", "log-key", "passphrase-file"}

// A compCommand is a command as the completion scripts see it.
type compCommand struct {
	name, summary string
	subs          []string
	flags         []compFlag
}

type compFlag struct {
	name, usage       string
	takesValue, files bool // files: the value is a file or directory name
	values            []string
}

// completionTable is the command table with each command's flags, taken
// from the FlagSets the commands make when asked for --help.
func completionTable() []compCommand {
	var out []compCommand
	for _, c := range commands {
		cc := compCommand{name: c.name, summary: c.summary, subs: subcommands[c.name]}
		if c.name == "help" {
			for _, h := range commands {
				cc.subs = append(cc.subs, h.name)
			}
		}
		for _, f := range commandFlags(c) {
			arg, _ := flag.UnquoteUsage(f)
			cf := compFlag{name: f.Name, usage: flagSummary(f), takesValue: true, values: flagValues[f.Name],
				files: strings.Contains(arg, "FILE") || strings.Contains(arg, "DIR") || slices.Contains(fileFlags, f.Name)}
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				cf.takesValue = false
			}
			cc.flags = append(cc.flags, cf)
		}
		out = append(out, cc)
	}
	return out
}

// commandFlags runs c with --help (for key: key export-identity --help),
// output discarded, and returns the flags of the FlagSets it made.
func commandFlags(c command) []*flag.Flag {
	var sets []*flag.FlagSet
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, flagSets: &sets}
	// Commands with subcommands define their flags per subcommand.
	calls := map[string][][]string{
		"key":      {{"export-identity", "--help"}, {"create-advisory", "--help"}},
		"advisory": {{"create", "--help"}, {"list", "--help"}, {"withdraw", "--help"}},
		"stats":    {{"publish", "--help"}},
	}[c.name]
	if calls == nil {
		calls = [][]string{{"--help"}}
	}
	for _, args := range calls {
		c.run(context.Background(), e, args)
	}
	var flags []*flag.Flag
	for _, fs := range sets {
		fs.VisitAll(func(f *flag.Flag) {
			if !slices.ContainsFunc(flags, func(g *flag.Flag) bool { return g.Name == f.Name }) {
				flags = append(flags, f)
			}
		})
	}
	return flags
}

// flagSummary is the flag's usage text up to its first period or
// parenthesis, without the backquotes that name its argument.
func flagSummary(f *flag.Flag) string {
	s := strings.ReplaceAll(f.Usage, "`", "")
	if i := strings.IndexAny(s, ".(;"); i > 0 {
		s = s[:i]
	}
	s = strings.TrimRight(strings.TrimSpace(s), ",:")
	return strings.Join(strings.Fields(s), " ")
}

// dashes is how the completions spell a flag: -q, --data (vigil takes
// either form of each).
func dashes(name string) string {
	if len(name) == 1 {
		return "-"
	}
	return "--"
}

// shellQuote quotes s for sh-like shells in single quotes.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func writeBash(w io.Writer, cmds []compCommand) {
	var names []string
	for _, c := range cmds {
		names = append(names, c.name)
	}
	fmt.Fprintf(w, `# bash completion for vigil; generated by "vigil completion bash".
_vigil() {
	local cur prev words subs
	COMPREPLY=()
	cur="${COMP_WORDS[COMP_CWORD]}"
	prev=""
	[ "$COMP_CWORD" -gt 0 ] && prev="${COMP_WORDS[COMP_CWORD-1]}"
	if [ "$COMP_CWORD" -le 1 ]; then
		COMPREPLY=($(compgen -W %s -- "$cur"))
		return 0
	fi
	case "${COMP_WORDS[1]}" in
`, shellQuote(strings.Join(append(names, "--help", "--version"), " ")))
	for _, c := range cmds {
		fmt.Fprintf(w, "\t%s)\n", c.name)
		var files, all []string
		for _, f := range c.flags {
			all = append(all, dashes(f.name)+f.name)
			switch {
			case !f.takesValue:
			case len(f.values) > 0:
				fmt.Fprintf(w, "\t\tcase \"$prev\" in --%s|-%s) COMPREPLY=($(compgen -W %s -- \"$cur\")); return 0;; esac\n", f.name, f.name, shellQuote(strings.Join(f.values, " ")))
			default:
				// File names, or for other values nothing better.
				files = append(files, "--"+f.name, "-"+f.name)
			}
		}
		if len(files) > 0 {
			// An empty reply falls back to file names (complete -o default).
			fmt.Fprintf(w, "\t\tcase \"$prev\" in %s) return 0;; esac\n", strings.Join(files, "|"))
		}
		fmt.Fprintf(w, "\t\twords=%s\n\t\tsubs=%s\n\t\t;;\n", shellQuote(strings.Join(all, " ")), shellQuote(strings.Join(c.subs, " ")))
	}
	fmt.Fprintf(w, `	*)
		return 0
		;;
	esac
	case "$cur" in
	-*) COMPREPLY=($(compgen -W "$words" -- "$cur")) ;;
	*) [ "$COMP_CWORD" -eq 2 ] && [ -n "$subs" ] && COMPREPLY=($(compgen -W "$subs" -- "$cur")) ;;
	esac
	return 0
}
complete -o default -F _vigil vigil
`)
}

// zshQuote makes s safe inside an _arguments description in single quotes.
func zshQuote(s string) string {
	r := strings.NewReplacer("[", "(", "]", ")", ":", `\:`, "'", `'\''`)
	return r.Replace(s)
}

func writeZsh(w io.Writer, cmds []compCommand) {
	fmt.Fprintf(w, "#compdef vigil\n# zsh completion for vigil; generated by \"vigil completion zsh\".\n\n_vigil() {\n\tlocal -a commands\n\tcommands=(\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "\t\t'%s:%s'\n", c.name, zshQuote(c.summary))
	}
	fmt.Fprintf(w, "\t)\n\tif (( CURRENT == 2 )); then\n\t\t_describe -t commands 'vigil command' commands\n\t\treturn\n\tfi\n\tlocal cmd=$words[2]\n\tshift words\n\t(( CURRENT-- ))\n\tcase $cmd in\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "\t%s)\n\t\t_arguments -s \\\n", c.name)
		for _, f := range c.flags {
			spec := fmt.Sprintf("%s%s[%s]", dashes(f.name), f.name, zshQuote(f.usage))
			switch {
			case !f.takesValue:
			case len(f.values) > 0:
				spec += fmt.Sprintf(":%s:(%s)", f.name, strings.Join(f.values, " "))
			case f.name == "data" || f.name == "case":
				spec += ":directory:_files -/"
			case f.files:
				spec += fmt.Sprintf(":%s:_files", f.name)
			default:
				spec += fmt.Sprintf(":%s: ", f.name)
			}
			fmt.Fprintf(w, "\t\t\t'%s' \\\n", spec)
		}
		if len(c.subs) > 0 {
			fmt.Fprintf(w, "\t\t\t'1:subcommand:(%s)' \\\n", strings.Join(c.subs, " "))
		}
		fmt.Fprintf(w, "\t\t\t'*:file:_files'\n\t\t;;\n")
	}
	fmt.Fprintf(w, "\tesac\n}\n\nif [ \"$funcstack[1]\" = \"_vigil\" ]; then\n\t_vigil \"$@\"\nelse\n\tcompdef _vigil vigil\nfi\n")
}

func writeFish(w io.Writer, cmds []compCommand) {
	fmt.Fprintf(w, "# fish completion for vigil; generated by \"vigil completion fish\".\ncomplete -c vigil -f\n")
	fmt.Fprintf(w, "complete -c vigil -n __fish_use_subcommand -l help -d 'usage'\n")
	fmt.Fprintf(w, "complete -c vigil -n __fish_use_subcommand -l version -d 'version'\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "complete -c vigil -n __fish_use_subcommand -a %s -d %s\n", c.name, shellQuote(c.summary))
	}
	for _, c := range cmds {
		cond := shellQuote("__fish_seen_subcommand_from " + c.name)
		if len(c.subs) > 0 {
			fmt.Fprintf(w, "complete -c vigil -n %s -a %s\n", cond, shellQuote(strings.Join(c.subs, " ")))
		}
		for _, f := range c.flags {
			// fish's -l is a --long option; -o an old-style -option.
			opt := "-l " + f.name
			if len(f.name) == 1 {
				opt = "-s " + f.name
			}
			fmt.Fprintf(w, "complete -c vigil -n %s %s", cond, opt)
			switch {
			case !f.takesValue:
			case len(f.values) > 0:
				fmt.Fprintf(w, " -x -a %s", shellQuote(strings.Join(f.values, " ")))
			case f.files:
				fmt.Fprintf(w, " -r -F")
			default:
				fmt.Fprintf(w, " -x")
			}
			fmt.Fprintf(w, " -d %s\n", shellQuote(f.usage))
		}
	}
}
