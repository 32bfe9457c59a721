package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/stats"
)

const statsHelp = `publish --data DIR [--k N] [--region-level N]

Publishes signed statistics of the case records (see docs/publication.md):
acts, "confirmed at least" and "reported up to" victims by act type × region
and act type × month, with their totals. Counts below k (vigil.json
"stats": {"k": 5}) are hidden, and so are as many others as it takes that no
total gives a hidden one away. Places are counted at region level
("region_level": 1, the top-level place). The table is signed with the
publication (advisory) key, logged, and served at /stats (HTML, CSV, JSON,
and /stats.txt, the signed note that vigil verify checks).

Needs the admin passphrase. While vigil serve runs, it asks the server over
its staff socket (DIR/staff.sock, docs/cli.md) instead: no passphrase is
read, and the server must be unsealed.`

func runStats(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "publish" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintf(e.stdout, "Usage: vigil stats %s\n", statsHelp)
			return flag.ErrHelp
		}
		return usageError{"usage: vigil stats publish --data DIR (see vigil stats --help)"}
	}
	fs := newFlags(e, "stats publish", statsHelp)
	data := dataFlag(fs, e)
	pfile := fs.String("passphrase-file", "", "read the admin passphrase from `FILE`")
	k := fs.Int("k", 0, "hide counts below `N` (default vigil.json stats.k, else 5)")
	level := fs.Int("region-level", 0, "place level counted as a region, `N`: 1 the top-level place (default vigil.json stats.region_level, else 1)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{"stats publish takes no arguments"}
	}
	if *k < 0 || *level < 0 {
		return usageError{"--k and --region-level must be positive"}
	}
	d, srv, err := open(ctx, e, *data, *pfile, passNeeded)
	if err != nil {
		return err
	}
	var out api.StatsPublished
	if srv != nil {
		err = srv.do(ctx, "POST", "/api/v1/stats", api.StatsRequest{K: *k, RegionLevel: *level}, &out)
	} else {
		defer d.Close()
		out, err = statsPublisher(d)(ctx, cliPrincipal, *k, *level)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Published statistics %s: %d figures shown, %d hidden (k = %d, region level %d); public at /stats.\n", out.ID, out.Shown, out.Hidden, out.K, out.RegionLevel)
	return nil
}

// statsPublisher computes, signs, logs and publishes the statistics of an
// open data directory (a running server's api.Server.Stats); k and level
// 0 take vigil.json's.
func statsPublisher(d *datadir.Dir) api.StatsPublisher {
	return func(ctx context.Context, p vigil.Principal, k, level int) (api.StatsPublished, error) {
		params := stats.Params{K: d.Config.Stats.K, RegionLevel: d.Config.Stats.RegionLevel}
		if k > 0 {
			params.K = k
		}
		if level > 0 {
			params.RegionLevel = level
		}
		t, err := computeStats(ctx, d, p, params)
		if err != nil {
			return api.StatsPublished{}, err
		}
		t, _, err = stats.Publish(ctx, d.StatsDir, d.Store, d.Vault, p, t, time.Now(), d.Cases.TimePrecision)
		if err != nil {
			return api.StatsPublished{}, err
		}
		out := api.StatsPublished{ID: t.ID, K: t.K, RegionLevel: t.RegionLevel}
		for _, f := range t.Figures {
			if f.Suppressed {
				out.Hidden++
			} else {
				out.Shown++
			}
		}
		return out, nil
	}
}

// computeStats reads every act, its affirming claims and places with their
// log leaves, and computes the protected table.
func computeStats(ctx context.Context, d *datadir.Dir, p vigil.Principal, params stats.Params) (stats.Table, error) {
	acts, err := d.Cases.Acts(ctx, p)
	if err != nil {
		return stats.Table{}, err
	}
	leafOf := func(id vigil.ID) (cases.Record, error) {
		r, err := d.Cases.Get(ctx, p, id)
		if err != nil {
			return r, err
		}
		if r.Leaf < 0 {
			return r, fmt.Errorf("%w: record %s has no log leaf", vigil.ErrCorrupt, id)
		}
		return r, nil
	}
	places := map[vigil.ID]stats.Place{}
	var in []stats.Act
	for _, a := range acts {
		r, err := leafOf(a.ID)
		if err != nil {
			return stats.Table{}, err
		}
		sa := stats.Act{Leaf: r.Leaf, ClaimLeaves: map[vigil.ID]int64{}}
		sa.ID, sa.Act.Act, sa.Result = a.ID, a.Act, a.Result
		for _, c := range a.Result.Affirming {
			cr, err := leafOf(c)
			if err != nil {
				return stats.Table{}, err
			}
			sa.ClaimLeaves[c] = cr.Leaf
		}
		for id := a.Act.Place; !id.IsZero(); {
			if _, ok := places[id]; ok {
				break
			}
			pr, err := leafOf(id)
			if err != nil {
				return stats.Table{}, err
			}
			pl, ok := pr.Doc.(vigil.Place)
			if !ok {
				return stats.Table{}, fmt.Errorf("%w: %s is not a place", vigil.ErrCorrupt, id)
			}
			places[id] = stats.Place{Place: pl, Leaf: pr.Leaf}
			id = pl.Parent
		}
		in = append(in, sa)
	}
	return stats.Compute(in, places, params, func(id vigil.ID) string { return placeName(places[id].Place, "en") })
}
