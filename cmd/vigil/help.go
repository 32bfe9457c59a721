package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
)

// An example is one command line of vigil help COMMAND, with what it does.
type example struct{ what, line string }

// examples are shown by vigil help COMMAND. TestHelpExamples checks that
// every command has some and that every flag they use exists.
var examples = map[string][]example{
	"init": {
		{"create a data directory; the passphrase is asked twice on the terminal", `vigil init --data /var/lib/vigil --name "Crimea Watch" --origin watch.example.org/log`},
		{"the same from a script (the passphrase from a file readable only by you)", `vigil init --data d --name "Crimea Watch" --origin watch.example.org/log --passphrase-file pass.txt`},
	},
	"add": {
		{"ingest a file and a directory (recursively); prints ID, leaf index and path", `vigil add --data d statement.pdf photos/`},
		{"the same and sign a checkpoint at once", `vigil add --data d --passphrase-file pass.txt -q report.docx`},
	},
	"serve": {
		{"public intake on 127.0.0.1:8080 (behind the onion service), staff API on 127.0.0.1:8081", `vigil serve --data /var/lib/vigil`},
		{"a checkpoint every 10 minutes, and the staff API under a second name", `vigil serve --data d --checkpoint-interval 10m --staff-host staff.internal`},
	},
	"unseal": {
		{"unseal the running server (asks for the passphrase)", `vigil unseal`},
		{"a server whose staff listener is elsewhere", `vigil unseal --staff 127.0.0.1:9081`},
	},
	"seal": {
		{"forget the keys of the running server at once (intake keeps working)", `vigil seal`},
	},
	"bundle": {
		{"export two items with their proofs", `vigil bundle --data d --out case.zip 01J9ZQ4Y5M2B7K8N3P6R1S0T4V 01J9ZQ4Y5M2B7K8N3P6R1S0T4W`},
		{"proofs and statements only, no content", `vigil bundle --data d --out proofs.zip --no-content 01J9ZQ4Y5M2B7K8N3P6R1S0T4V`},
	},
	"verify": {
		{"check a bundle against the log's key from vigil.json", `vigil verify case.zip --log-key "$(jq -r .log_vkey d/vigil.json)"`},
		{"and the witnesses' cosignatures against a policy", `vigil verify case.zip --log-key log.vkey --policy witnesses.txt`},
	},
	"fsck": {
		{"check the log and checkpoints (no passphrase: ciphertext is not opened)", `vigil fsck --data d`},
		{"also decrypt and hash everything, and remove blobs of interrupted ingests", `vigil fsck --data d --passphrase-file pass.txt --sweep`},
	},
	"migrate": {
		{"move a data directory's records to PostgreSQL and its blobs to S3, writing a new directory that names them", `vigil migrate --from d --to postgres://vigil@db.internal/vigil --blobs s3://s3.example.org/ngo-vigil/main --dir d-pg`},
		{"back to SQLite and local blobs, decrypting every item on the far side", `vigil migrate --from d-pg --to d-sqlite --verify-items --passphrase-file pass.txt`},
	},
	"key": {
		{"write the age identity to a new file only you can read", `vigil key export-identity --data d --out identity.txt`},
	},
	"token": {
		{"a token for the intake team (printed once)", `vigil token create --data d --name "intake laptop" --role intake`},
		{"list tokens, then revoke one", `vigil token list --data d && vigil token revoke --data d 01J9ZQ4Y5M2B7K8N3P6R1S0T4V`},
	},
	"account": {
		{"the first admin of the web UI, right after init (the account's passphrase is asked twice)", `vigil account create --data d --name Olga --role admin --lang ru`},
		{"list accounts, then make one an analyst", `vigil account list --data d && vigil account role --data d Olga analyst`},
	},
	"report": {
		{"a PDF of one incident, in Russian", `vigil report --data d --incident spring-2017 --out report-ru.pdf --lang ru`},
	},
	"config": {
		{"check vigil.json before a restart: OK, or every problem with its key", `vigil config check --data /var/lib/vigil`},
	},
	"backup": {
		{"an encrypted, incremental backup while serve runs (no passphrase needed)", `vigil backup --data /var/lib/vigil --to /mnt/backup/vigil`},
		{"the same into an S3 bucket prefix (keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); records in PostgreSQL and blobs in S3 (vigil.json store and blobs) are backed up too", `vigil backup --data /var/lib/vigil --to s3://s3.example.net/vigil-backup/hotline`},
	},
	"restore": {
		{"rebuild a data directory from the latest snapshot, refusing one older than a checkpoint you kept", `vigil restore --from /mnt/backup/vigil --data /var/lib/vigil-new --known-checkpoint last-checkpoint.txt`},
		{"from an S3 bucket prefix into an empty PostgreSQL database and bucket prefix", `vigil restore --from s3://s3.example.net/vigil-backup/hotline --data /var/lib/vigil-new --store postgres://vigil@db.internal/vigil2 --blobs s3://s3.example.net/vigil-blobs2/hotline`},
	},
	"advisory": {
		{"a signed warning in two languages, valid for three days", `vigil advisory create --data d --text en="Leave the city tonight." --text ru="Уезжайте из города сегодня." --for 72h`},
		{"withdraw one (the withdrawal is itself a signed advisory)", `vigil advisory list --data d && vigil advisory withdraw --data d ADVISORY-ID`},
	},
	"stats": {
		{"publish signed statistics with counts below 5 hidden", `vigil stats publish --data d --k 5`},
	},
	"inbox": {
		{"list submissions, newest first", `vigil inbox --data d`},
		{"read one, answer the source, move it on", `vigil inbox --data d 01J9ZQ4Y5M2B7K8N3P6R1S0T4V && vigil inbox --data d reply 01J9ZQ4Y5M2B7K8N3P6R1S0T4V "Thank you. Can you say which day?" && vigil inbox --data d state 01J9ZQ4Y5M2B7K8N3P6R1S0T4V in_review`},
		{"save a file a source sent", `vigil inbox --data d file 01J9ZQ4Y5M2B7K8N3P6R1S0T4V photo.jpg > photo.jpg`},
	},
	"import": {
		{"import a case file, all or nothing", `vigil import --data d case.json`},
	},
	"export": {
		{"the case records as vigil-case/1 JSON", `vigil export --data d --out case.json`},
		{"one CSV table per kind of record", `vigil export --data d --format csv --out case-csv/`},
	},
	"acts": {
		{"every act with its status and explanation, in Russian", `vigil acts --data d --lang ru`},
		{"as JSON, for scripts", `vigil acts --data d --json`},
	},
	"search": {
		{"full-text search; names match across scripts", `vigil search --data d Ivanov`},
		{"acts only, at most 5 hits, as JSON", `vigil search --data d --kind act --limit 5 --json "detention Simferopol"`},
	},
	"figures": {
		{"confirmed-at-least and reported-up-to figures by month", `vigil figures --data d --by month`},
		{"by place, as JSON", `vigil figures --data d --by place --json`},
	},
	"witness": {
		{"run a witness and add another organisation's log to it", `vigil witness --data w --listen 127.0.0.1:7380 --add-log "$(cat their-log.vkey)"`},
	},
	"demo": {
		{"a throwaway instance until Ctrl-C", `vigil demo`},
		{"write a data directory with the worked case and exit", `vigil demo --case /tmp/demo-case`},
	},
	"version": {
		{"what this binary is", `vigil version`},
		{"the same, and every dependency with its checksum", `vigil --version && go version -m "$(command -v vigil)"`},
	},
	"completion": {
		{"bash: load now, or install for every shell", `source <(vigil completion bash)`},
		{"zsh (a directory on $fpath)", `vigil completion zsh > "${fpath[1]}/_vigil"`},
		{"fish", `vigil completion fish > ~/.config/fish/completions/vigil.fish`},
	},
	"help": {
		{"a command's flags and examples", `vigil help serve`},
	},
}

const helpHelp = `[COMMAND]

Without COMMAND: the list of commands. With it: the command's flags and
examples of its use.`

func runHelp(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "help", helpHelp)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		usage(e.stdout)
		return nil
	case 1:
	default:
		return usageError{"usage: vigil help COMMAND"}
	}
	c, ok := findCommand(pos[0])
	if !ok {
		return usageError{fmt.Sprintf("unknown command %q (vigil help lists them)", pos[0])}
	}
	fmt.Fprintf(e.stdout, "vigil %s: %s\n\n", c.name, c.summary)
	hargs := []string{"--help"}
	if c.name == "key" {
		hargs = []string{"export-identity", "--help"}
	}
	if err := c.run(ctx, e, hargs); err != nil && !errors.Is(err, flag.ErrHelp) {
		return err
	}
	if ex := examples[c.name]; len(ex) > 0 {
		fmt.Fprintf(e.stdout, "\nExamples:\n")
		for _, x := range ex {
			fmt.Fprintf(e.stdout, "  # %s\n  %s\n", x.what, x.line)
		}
	}
	return nil
}

func findCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}
