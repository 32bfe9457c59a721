package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-hr/vigil/internal/datadir"
)

// runConfig checks DIR/vigil.json without opening the directory (it works
// while serve holds the lock): every unknown key and bad value is listed,
// each with its path; docs/config.md documents the keys.
func runConfig(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "config", "check [--data DIR]")
	data := dataFlag(fs, e)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "check" {
		return usageError{"want: vigil config check [--data DIR]"}
	}
	_, err = datadir.ReadConfig(*data)
	var ce *datadir.ConfigError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Fprintln(e.stdout, p)
		}
		return fmt.Errorf("%d problem(s) in %s/vigil.json (docs/config.md documents every key)", len(ce.Problems), *data)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "OK")
	return nil
}
