package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/intake"
)

func (p *public) submitForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "submit", p.newPage(p.lang(r, ""), "/submit", "submit.title"))
}

// failUpload answers a refused upload in lang; back is the form's path.
func (p *public) failUpload(w http.ResponseWriter, r *http.Request, lang, back string, err error) {
	c := p.in.Config.WithDefaults()
	var ue *uploadError
	if !errors.As(err, &ue) {
		status, key := unexpected(err)
		ue = &uploadError{status, key}
	}
	if ue.status == http.StatusRequestEntityTooLarge || ue.status == http.StatusBadRequest {
		// The rest of the body may be large or garbage: don't read it to
		// keep the connection.
		w.Header().Set("Connection", "close")
	}
	cat := p.cat.get(lang)
	if cat == nil {
		cat = p.cat.get(fallbackLang)
	}
	var args []any
	switch ue.key {
	case "error.too_large":
		args = []any{p.cat.formatSize(cat, int64(c.MaxText)), p.cat.formatSize(cat, c.MaxTotal)}
	case "error.too_many_files":
		args = []any{c.MaxFiles}
	}
	p.fail(w, ue.status, lang, back, ue.key, args...)
}

// capBody refuses a body over the cap before reading any of it, and caps
// the rest. It reports whether the request may go on.
func (p *public) capBody(w http.ResponseWriter, r *http.Request, lang, back string) bool {
	max := bodyCap(p.in.Config.WithDefaults())
	if r.ContentLength > max {
		p.failUpload(w, r, lang, back, errTooLarge)
		return false
	}
	stall := p.opt.UploadStall
	if stall <= 0 {
		stall = 2 * time.Minute
	}
	r.Body = &stallGuard{ReadCloser: http.MaxBytesReader(w, r.Body, max), rc: http.NewResponseController(w), stall: stall}
	return true
}

// stallGuard pushes the connection's read deadline forward on every read,
// so an upload may take as long as it needs while it makes progress.
// Tor is slow, so the default stall is generous; but a connection that sends
// nothing must not hold a goroutine, a file and its buffers forever (slowloris).
type stallGuard struct {
	io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
}

func (g *stallGuard) Read(p []byte) (int, error) {
	g.rc.SetReadDeadline(time.Now().Add(g.stall)) // unsupported (recorders): no deadline
	return g.ReadCloser.Read(p)
}

// submit takes a new submission: streamed, encrypted on arrival, and
// answered with the receipt.
func (p *public) submit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := p.lang(r, "")
	if !p.capBody(w, r, lang, "/submit") {
		return
	}
	c := p.in.Config.WithDefaults()
	u, err := p.readUpload(r, uploadSpec{fields: map[string]int{
		"text": c.MaxText, "language": 16, "contact": 1000, "lang": 16,
	}})
	if err != nil {
		p.failUpload(w, r, lang, "/submit", err)
		return
	}
	if l := u.fields["lang"]; l != "" {
		lang = p.lang(r, l)
	}
	d := intake.Draft{Text: u.fields["text"], Language: u.fields["language"], Contact: strings.TrimSpace(u.fields["contact"])}
	if d.Language != "" && !offersLanguage(d.Language) {
		u.discard(ctx, p.in.Evidence)
		p.failUpload(w, r, lang, "/submit", errBadForm)
		return
	}
	if strings.TrimSpace(d.Text) == "" && len(u.files) == 0 {
		p.failUpload(w, r, lang, "/submit", &uploadError{http.StatusBadRequest, "error.empty"})
		return
	}
	receipt, _, err := p.in.Submit(ctx, d, u.files) // discards the files on error
	if err != nil {
		p.failUpload(w, r, lang, "/submit", intakeError(err))
		return
	}
	pg := p.newPage(lang, "", "receipt.title")
	pg.FileCount = len(u.files)
	p.renderReceipt(w, pg, receipt)
	receipt.Wipe()
}

// renderReceipt renders the receipt page with the receipt left out of the
// template (html/template would copy it through fmt.Sprint and every growth
// of the page buffer) and spliced into one buffer of our own, wiped once
// written. The receipt is digits and spaces: nothing to escape.
func (p *public) renderReceipt(w http.ResponseWriter, pg *page, receipt intake.Receipt) {
	var buf bytes.Buffer
	if err := p.pages["receipt"].Execute(&buf, pg); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	page := buf.Bytes()
	const mark = `id="receipt" class="receipt">`
	i := bytes.Index(page, []byte(mark))
	if i < 0 {
		http.Error(w, "internal error", http.StatusInternalServerError) // a template defect
		return
	}
	i += len(mark)
	out := make([]byte, 0, len(page)+len(receipt))
	defer clear(out[:cap(out)])
	out = append(append(append(out, page[:i]...), receipt...), page[i:]...)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", pg.Lang)
	if writeUnbuffered(w, http.StatusOK, out) {
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// writeUnbuffered writes a whole response straight to the connection and
// closes it, so that the body is never copied into net/http's connection
// buffers: they are pooled, outlive the request and cannot be wiped, and
// the receipt page would stay in one until it is reused. It reports false,
// having written nothing, where the connection cannot be taken over (HTTP/2,
// a test recorder).
func writeUnbuffered(w http.ResponseWriter, status int, body []byte) bool {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	// The request log's writer never sees this response: tell it the status.
	for x := w; x != nil; {
		if s, ok := x.(*statusWriter); ok {
			if s.status == 0 {
				s.status = status
			}
			break
		}
		u, ok := x.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		x = u.Unwrap()
	}
	defer conn.Close()
	// The connection's read buffer still holds the request (a follow-up
	// login's form carries the receipt): make it refill with zeros.
	brw.Reader.Reset(zeroReader{})
	brw.Reader.Peek(brw.Reader.Size())
	if err := brw.Writer.Flush(); err != nil { // nothing was written yet
		return true
	}
	var head bytes.Buffer
	fmt.Fprintf(&head, "HTTP/1.1 %03d %s\r\n", status, http.StatusText(status))
	h := w.Header().Clone()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if err := h.Write(&head); err != nil {
		return true
	}
	head.WriteString("\r\n")
	conn.SetWriteDeadline(time.Now().Add(time.Minute))
	if _, err := conn.Write(head.Bytes()); err == nil {
		conn.Write(body)
	}
	return true
}

// intakeError maps an intake error to what the source is told. Its text is
// never shown or logged: it may name content.
func intakeError(err error) error {
	switch {
	case errors.Is(err, vigil.ErrTooLarge):
		return errTooLarge
	case errors.Is(err, vigil.ErrInvalid):
		return errBadForm
	}
	return err
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// captured is a response held in memory, to be written by writeUnbuffered.
type captured struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (c *captured) Header() http.Header { return c.h }

func (c *captured) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

func (c *captured) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(b)
}

// send writes the captured response with writeUnbuffered (or normally, if
// it cannot) and wipes it.
func (c *captured) send(w http.ResponseWriter) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	if !writeUnbuffered(w, c.code, c.body.Bytes()) {
		w.WriteHeader(c.code)
		w.Write(c.body.Bytes())
	}
	b := c.body.Bytes()
	clear(b[:cap(b)])
}
