package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/staffsock"
)

func runAdd(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "add", "--data DIR FILE|DIR...")
	data := dataFlag(fl, e)
	pfile := fl.String("passphrase-file", "", "read the admin passphrase from `FILE`; with it (or VIGIL_PASSPHRASE), add signs a checkpoint at the end")
	quiet := fl.Bool("q", false, "no progress output")
	paths, err := parse(fl, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usageError{"no files given"}
	}
	// Collect and check every file before changing anything.
	var files []string
	skipped := 0
	for _, p := range paths {
		if err := collect(p, &files, &skipped); err != nil {
			return err
		}
	}
	if skipped > 0 && !*quiet {
		fmt.Fprintf(e.stderr, "vigil add: skipping %d entries inside directories that are not regular files (symbolic links, devices, pipes)\n", skipped)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w (nothing was added)", f, unwrapPath(err))
		}
		// Read a byte too: some files open but cannot be read at all.
		_, err = fh.Read(make([]byte, 1))
		fh.Close()
		if err != nil && err != io.EOF {
			return fmt.Errorf("cannot read %s: %w (nothing was added)", f, unwrapPath(err))
		}
	}
	d, srv, err := open(ctx, e, *data, *pfile, passGiven)
	if err != nil {
		return err
	}
	// Offline the item goes straight into the evidence service; while
	// vigil serve runs, the file is streamed to it over the staff socket.
	ingest := srv.addItem
	sign := false // a running server signs on its own checkpoint grid
	if srv == nil {
		defer d.Close()
		sign = !d.Vault.Sealed()
		ingest = localIngest(d)
	}
	var progress time.Duration // how often to redraw the progress line; 0: none
	if !*quiet && isTerminal(e.stderr) {
		progress = 200 * time.Millisecond
	}
	for i, f := range files {
		it, err := addFileVia(ctx, e, ingest, f, progress, i, len(files))
		if err != nil {
			return fmt.Errorf("add %s: %w (%d of %d files were added before it)", f, err, i, len(files))
		}
		fmt.Fprintf(e.stdout, "%s\t%d\t%s\n", it.ID, it.LeafIndex, f)
	}
	if sign {
		if _, err := d.SignCheckpoint(ctx); err != nil {
			return fmt.Errorf("sign checkpoint: %w", err)
		}
	} else if srv != nil {
		if !*quiet {
			fmt.Fprintln(e.stderr, "vigil add: added through the running vigil serve; it signs the checkpoint at the next boundary of its checkpoint interval")
		}
	} else if !*quiet {
		fmt.Fprintln(e.stderr, "vigil add: the vault is sealed, so no checkpoint was signed; `vigil serve` signs one when unsealed")
	}
	return nil
}

type addedItem struct {
	ID        vigil.ID
	LeafIndex int64
}

// addFile adds the file at path, redrawing a progress line on e.stderr
// every progress (0: none).
func addFile(ctx context.Context, e *env, d *datadir.Dir, path string, progress time.Duration, i, n int) (addedItem, error) {
	return addFileVia(ctx, e, localIngest(d), path, progress, i, n)
}

// localIngest adds files to an open data directory's evidence service.
func localIngest(d *datadir.Dir) func(context.Context, io.Reader, string) (addedItem, error) {
	return func(ctx context.Context, r io.Reader, name string) (addedItem, error) {
		it, err := d.Evidence.Add(ctx, r, name, "")
		return addedItem{it.ID, it.LeafIndex}, err
	}
}

// addFileVia is addFile with ingest adding the file (offline or through a
// running server).
func addFileVia(ctx context.Context, e *env, ingest func(context.Context, io.Reader, string) (addedItem, error), path string, progress time.Duration, i, n int) (addedItem, error) {
	f, err := os.Open(path)
	if err != nil {
		return addedItem{}, unwrapPath(err)
	}
	defer f.Close()
	var r io.Reader = f
	if progress > 0 {
		st, _ := f.Stat()
		pr := &progressReader{r: f, total: st.Size()}
		// The progress line is cleared before addFile returns, so the
		// caller's ID line starts on a clean line of the terminal.
		done, cleared := make(chan struct{}), make(chan struct{})
		defer func() { close(done); <-cleared }()
		go func() {
			defer close(cleared)
			t := time.NewTicker(progress)
			defer t.Stop()
			for {
				select {
				case <-done:
					fmt.Fprintf(e.stderr, "\r\033[K")
					return
				case <-t.C:
					fmt.Fprintf(e.stderr, "\r\033[K[%d/%d] %s %s", i+1, n, filepath.Base(path), pr.percent())
				}
			}
		}()
		r = pr
	}
	return ingest(ctx, r, filepath.Base(path))
}

// addItem streams a file to the running server's POST /api/v1/items; the
// body is read as it is sent (constant memory).
func (s *server) addItem(ctx context.Context, r io.Reader, name string) (addedItem, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", staffsock.BaseURL+"/api/v1/items", r)
	if err != nil {
		return addedItem{}, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.ItemNameHeader, url.PathEscape(name))
	resp, err := s.c.Do(req)
	if err != nil {
		return addedItem{}, fmt.Errorf("the running server (staff socket %s): %w", staffsock.Path(s.dir), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		var eb api.ErrorBody
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&eb)
		return addedItem{}, s.apiError(resp.StatusCode, eb)
	}
	var out api.AddedItem
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return addedItem{}, fmt.Errorf("read the server's answer: %w", err)
	}
	return addedItem{out.ID, out.LeafIndex}, nil
}

type progressReader struct {
	r     io.Reader
	n     atomic.Int64
	total int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n.Add(int64(n))
	return n, err
}

func (p *progressReader) percent() string {
	if p.total <= 0 {
		return ""
	}
	return fmt.Sprintf("%3d%% of %s", p.n.Load()*100/p.total, humanBytes(p.total))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// collect appends regular files under p (recursively for directories,
// not following symbolic links inside them).
func collect(p string, out *[]string, skipped *int) error {
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w (nothing was added)", p, unwrapPath(err))
	}
	if st.Mode().IsRegular() {
		*out = append(*out, p)
		return nil
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a regular file or directory (nothing was added)", p)
	}
	return filepath.WalkDir(p, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cannot read %s: %w (nothing was added)", path, unwrapPath(err))
		}
		if de.Type().IsRegular() {
			*out = append(*out, path)
		} else if !de.IsDir() {
			*skipped++
		}
		return nil
	})
}

// unwrapPath drops the path from a *fs.PathError, whose text the caller
// already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
