package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-hr/vigil/evidence"
	"github.com/vigil-hr/vigil/intake"
)

// An uploadError is a refused upload: its status and the message key the
// source sees.
type uploadError struct {
	status int
	key    string
}

func (e *uploadError) Error() string { return e.key }

var (
	errTooLarge     = &uploadError{http.StatusRequestEntityTooLarge, "error.too_large"}
	errTooManyFiles = &uploadError{http.StatusRequestEntityTooLarge, "error.too_many_files"}
	errTruncated    = &uploadError{http.StatusBadRequest, "error.truncated"}
	errBadName      = &uploadError{http.StatusBadRequest, "error.bad_filename"}
	errBadUTF8      = &uploadError{http.StatusBadRequest, "error.bad_utf8"}
	errBadForm      = &uploadError{http.StatusBadRequest, "error.bad_form"}
	errCSRF         = &uploadError{http.StatusForbidden, "error.csrf"}
	errPartHeader   = &uploadError{http.StatusBadRequest, "error.part_header"}
)

// maxPartHeader bounds the bytes a multipart reader may take from the body
// while it looks for the next part and reads its header: the boundary line
// (up to 512 bytes), the header block (8 KiB) and the read-ahead of its
// buffer (4 KiB in mime/multipart). A browser's part header is a few hundred bytes; Go's own
// bound is 10 MiB per part, which a few requests can hold in memory at once.
const maxPartHeader = 8<<10 + 4<<10 + 512

// A headerGuard is the body as the multipart reader sees it. While armed
// (during NextRawPart) it hands out at most left bytes, then fails; the
// parts' contents, read between calls, are not counted.
type headerGuard struct {
	r     io.Reader
	armed bool
	left  int64
	over  bool // the bound was hit
}

func (g *headerGuard) Read(b []byte) (int, error) {
	if !g.armed {
		return g.r.Read(b)
	}
	if g.left <= 0 {
		g.over = true
		return 0, errPartHeader
	}
	if int64(len(b)) > g.left {
		b = b[:g.left]
	}
	n, err := g.r.Read(b)
	g.left -= int64(n)
	return n, err
}

// nextPart returns the next part, taking at most maxPartHeader bytes of the
// body to find it and read its header. Every part before it must have been
// read to its end (else what remains of it counts too).
func nextPart(mr *multipart.Reader, g *headerGuard) (*multipart.Part, error) {
	g.armed, g.left = true, maxPartHeader
	p, err := mr.NextRawPart()
	g.armed = false
	if g.over {
		return nil, errPartHeader
	}
	return p, err
}

// bodyCap is the most an upload body may hold: the files, the text and the
// multipart framing.
func bodyCap(c intake.Config) int64 {
	return c.MaxTotal + int64(c.MaxText) + 8<<10 + int64(c.MaxFiles+16)*(4<<10)
}

// An upload is a streamed multipart form: its text fields and its staged
// files. Discard the files unless they were handed to intake.
type upload struct {
	fields map[string]string
	files  []*evidence.Pending
}

func (u *upload) discard(ctx context.Context, ev *evidence.Service) {
	for _, f := range u.files {
		ev.Discard(ctx, f)
	}
	u.files = nil
}

// An uploadSpec says what a form may hold.
type uploadSpec struct {
	fields map[string]int // text field name → cap in bytes
	// csrf, if set, must equal the "csrf" field, which must come before any
	// file, so that no file of a forged request is ever staged.
	csrf string
}

// readUpload streams r's multipart body: text fields under their caps,
// file parts ("files") straight into evidence.Service.Stage under the
// count and total caps. The caller has already capped r.Body. On error the
// staged files are discarded and the error is an *uploadError, or another
// error for a fault on our side.
func (p *public) readUpload(r *http.Request, spec uploadSpec) (_ *upload, err error) {
	c := p.in.Config.WithDefaults()
	ev := p.in.Evidence
	u := &upload{fields: make(map[string]string)}
	defer func() {
		if err != nil {
			u.discard(r.Context(), ev)
		}
	}()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, errBadForm
	}
	guard := &headerGuard{r: r.Body}
	mr := multipart.NewReader(guard, params["boundary"])
	var total int64
	csrfOK := spec.csrf == ""
	for parts := 0; ; parts++ {
		if parts > c.MaxFiles+len(spec.fields)+8 {
			return nil, errTooManyFiles
		}
		part, err := nextPart(mr, guard)
		if err == io.EOF { // exactly: a wrapped io.EOF means a truncated body
			break
		}
		if err == errPartHeader {
			return nil, err
		}
		if err != nil {
			var pe textproto.ProtocolError
			if errors.As(err, &pe) {
				// A part header with bytes no header may hold: in a
				// browser's form only a file name can carry them.
				return nil, errBadName
			}
			return nil, classify(err)
		}
		disp, dp, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if err != nil || disp != "form-data" {
			return nil, errBadForm
		}
		name := dp["name"]
		filename, isFile := dp["filename"]
		if !isFile {
			max, ok := spec.fields[name]
			if !ok {
				return nil, errBadForm
			}
			if _, dup := u.fields[name]; dup {
				return nil, errBadForm
			}
			b, err := io.ReadAll(io.LimitReader(part, int64(max)+1))
			if err != nil {
				return nil, classify(err)
			}
			if len(b) > max {
				return nil, errTooLarge
			}
			if !utf8.Valid(b) {
				return nil, errBadUTF8
			}
			u.fields[name] = strings.ReplaceAll(string(b), "\r\n", "\n")
			if name == "csrf" && spec.csrf != "" {
				csrfOK = subtle.ConstantTimeCompare(b, []byte(spec.csrf)) == 1
				if !csrfOK {
					return nil, errCSRF
				}
			}
			continue
		}
		if name != "files" {
			return nil, errBadForm
		}
		if !csrfOK {
			return nil, errCSRF
		}
		if filename == "" {
			// An empty file input sends a part with no name and no content.
			var one [1]byte
			n, err := io.ReadFull(part, one[:])
			if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
				continue
			}
			if err != nil && err != io.ErrUnexpectedEOF {
				return nil, classify(err)
			}
			return nil, errBadName
		}
		if !validFileName(filename) {
			return nil, errBadName
		}
		if len(u.files) >= c.MaxFiles {
			return nil, errTooManyFiles
		}
		cr := &capReader{r: part, left: c.MaxTotal - total}
		// The client's Content-Type is not trusted: Stage guesses from the
		// name and the first bytes.
		pend, err := ev.Stage(r.Context(), cr, filename, "")
		if err != nil {
			switch {
			case cr.over:
				return nil, errTooLarge
			case cr.err != nil:
				return nil, classify(cr.err)
			}
			return nil, err
		}
		total += pend.Size
		u.files = append(u.files, pend)
	}
	if !csrfOK {
		return nil, errCSRF
	}
	return u, nil
}

// classify maps a read error of the body to what the source is told.
func classify(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return errTruncated
}

// capReader reads at most left bytes and remembers why it stopped.
type capReader struct {
	r    io.Reader
	left int64
	over bool
	err  error
}

func (c *capReader) Read(b []byte) (int, error) {
	if c.left <= 0 {
		// Over the cap if there is anything more to read.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			c.over = true
			return 0, errTooLarge
		}
		if err != nil && err != io.EOF {
			c.err = err
		}
		return 0, err
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// validFileName reports whether a browser-sent file name is a plain base
// name we keep as is.
func validFileName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 || !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		switch {
		case c == '/' || c == '\\':
			return false
		case unicode.IsControl(c):
			return false
		case c >= '\u202a' && c <= '\u202e', c >= '\u2066' && c <= '\u2069', c == '\u200e', c == '\u200f', c == '\u061c':
			// Bidirectional formatting hides a file's real extension.
			return false
		}
	}
	return true
}
