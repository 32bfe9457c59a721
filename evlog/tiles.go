package evlog

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of tlog-tiles tiles: 256 hashes wide.
const TileHeight = 8

// A Source gives the tiles handler read access to the log.
type Source interface {
	// ViewLog runs fn with a consistent read-only snapshot of the log.
	ViewLog(ctx context.Context, fn func(Reader) error) error
	// LatestCheckpoint returns the latest signed checkpoint, or nil if none.
	LatestCheckpoint(ctx context.Context) ([]byte, error)
}

// Handler serves the log read-only per C2SP tlog-tiles
// (https://c2sp.org/tlog-tiles), relative to its mount point (strip the
// prefix first): "checkpoint", "tile/<L>/<N>[.p/<W>]" and
// "tile/entries/<N>[.p/<W>]". Tiles beyond the latest signed checkpoint are
// 404, so the public log moves only when a checkpoint is published.
func Handler(src Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		path := strings.TrimPrefix(r.URL.Path, "/")
		if path == "checkpoint" {
			cp, err := src.LatestCheckpoint(r.Context())
			if err != nil {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			if cp == nil {
				http.Error(w, "no checkpoint signed yet (the vault must be unsealed once)", http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache, max-age=0")
			w.Write(cp)
			return
		}
		t, err := ParseTilePath(path)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		// Serve only what the latest checkpoint covers: the live tree size
		// would tell an observer, to the second, when each submission
		// arrived, undoing the coarse times intake stores.
		cp, err := src.LatestCheckpoint(r.Context())
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		published := int64(0)
		if cp != nil {
			text, _, _ := strings.Cut(string(cp), "\n\n")
			c, err := ParseCheckpoint(text + "\n")
			if err != nil {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			published = c.N
		}
		var data []byte
		err = src.ViewLog(r.Context(), func(lr Reader) error {
			data, err = ReadTile(capped{lr, published}, t)
			return err
		})
		if errors.Is(err, errNoTile) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write(data)
	})
}

var errNoTile = errors.New("tile not in tree")

// capped is a Reader whose tree ends at n entries (or earlier).
type capped struct {
	Reader
	n int64
}

func (c capped) TreeSize() (int64, error) {
	n, err := c.Reader.TreeSize()
	return min(n, c.n), err
}

// ReadTile returns a tile's content: hashes for levels 0 and up, an entry
// bundle for t.L == -1. It fails with a not-found error if the tile is not
// inside the tree.
func ReadTile(r Reader, t tlog.Tile) ([]byte, error) {
	size, err := r.TreeSize()
	if err != nil {
		return nil, err
	}
	level := t.L
	if level < 0 {
		level = 0
	}
	if level > 7 || t.W < 1 || t.W > 256 || t.N < 0 || t.N > size>>8 {
		return nil, errNoTile
	}
	if t.N<<8+int64(t.W) > size>>(8*level) {
		return nil, errNoTile
	}
	if t.L >= 0 {
		return tlog.ReadTileData(t, tlog.HashReaderFunc(r.ReadHashes))
	}
	start := t.N << 8
	entries, err := r.ReadEntries(start, start+int64(t.W))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(entries)*(2+EntrySize))
	for _, e := range entries {
		out = binary.BigEndian.AppendUint16(out, uint16(len(e)))
		out = append(out, e...)
	}
	return out, nil
}

// ParseTilePath parses a tlog-tiles path relative to the log prefix:
// "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" (L = -1). Tiles have
// height 8; full tiles have W = 256.
func ParseTilePath(path string) (tlog.Tile, error) {
	t := tlog.Tile{H: TileHeight, W: 256}
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return t, errors.New("not a tile path")
	}
	lvl, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return t, errors.New("malformed tile path")
	}
	if lvl == "entries" {
		t.L = -1
	} else {
		l, err := strconv.Atoi(lvl)
		if err != nil || l < 0 || l > 63 || strconv.Itoa(l) != lvl {
			return t, errors.New("malformed tile level")
		}
		t.L = l
	}
	if i := strings.Index(rest, ".p/"); i >= 0 {
		w, err := strconv.Atoi(rest[i+3:])
		if err != nil || w < 1 || w > 255 || strconv.Itoa(w) != rest[i+3:] {
			return t, errors.New("malformed tile width")
		}
		t.W = w
		rest = rest[:i]
	}
	elems := strings.Split(rest, "/")
	if len(elems) > 7 {
		return t, errors.New("tile index too large")
	}
	var n int64
	for i, e := range elems {
		if len(e) == 4 && e[0] == 'x' && i < len(elems)-1 {
			e = e[1:]
		} else if len(e) != 3 || i < len(elems)-1 {
			return t, errors.New("malformed tile index")
		}
		d, err := strconv.Atoi(e)
		if err != nil || d < 0 || e[0] == '-' || e[0] == '+' {
			return t, errors.New("malformed tile index")
		}
		n = n*1000 + int64(d)
	}
	t.N = n
	// One tile, one path: refuse a leading "x000/" element and indexes that
	// overflowed, as tlog.ParseTilePath does.
	if TilePath(t) != path {
		return t, errors.New("tile path is not canonical")
	}
	return t, nil
}

// TilePath returns the tlog-tiles path of t, the inverse of [ParseTilePath].
func TilePath(t tlog.Tile) string {
	var b strings.Builder
	b.WriteString("tile/")
	if t.L < 0 {
		b.WriteString("entries/")
	} else {
		b.WriteString(strconv.Itoa(t.L) + "/")
	}
	n := strconv.FormatInt(t.N, 10)
	for len(n)%3 != 0 {
		n = "0" + n
	}
	for i := 0; i < len(n); i += 3 {
		if i+3 < len(n) {
			b.WriteString("x" + n[i:i+3] + "/")
		} else {
			b.WriteString(n[i : i+3])
		}
	}
	if t.W < 256 {
		b.WriteString(".p/" + strconv.Itoa(t.W))
	}
	return b.String()
}
