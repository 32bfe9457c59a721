package staffweb

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/cases"
	"github.com/vigil-hr/vigil/evidence"
)

// An EvidenceVault adds and reads evidence items; *evidence.Service
// implements it. Add streams the file in constant memory (encrypting it as
// it arrives) and stores nothing if the reader fails.
type EvidenceVault interface {
	Add(ctx context.Context, r io.Reader, name, mediaType string) (evidence.Item, error)
	Get(ctx context.Context, id vigil.ID) (evidence.Item, error)
	Open(ctx context.Context, it evidence.Item) (io.ReadCloser, error)
	Page(ctx context.Context, after vigil.ID, limit int) ([]evidence.Listed, error)
}

var _ EvidenceVault = (*evidence.Service)(nil)

// DefaultMaxUpload is the largest evidence upload when Server.MaxUpload is
// zero.
const DefaultMaxUpload = 2 << 30

func (s *Server) maxUpload() int64 {
	if s.MaxUpload > 0 {
		return s.MaxUpload
	}
	return DefaultMaxUpload
}

func (s *Server) vault() (EvidenceVault, error) {
	if s.Evidence == nil {
		return nil, vigil.ErrNotFound
	}
	return s.Evidence, nil
}

// itemInfo is an evidence item as the pages show it.
type itemInfo struct {
	ID        vigil.ID
	LeafIndex int64
	Size      int64
	MediaType string
	SHA256    string
	Name      string
	Created   time.Time
}

func infoOf(it evidence.Item) itemInfo {
	return itemInfo{ID: it.ID, LeafIndex: it.LeafIndex, Size: it.Size, MediaType: it.MediaType, SHA256: hex.EncodeToString(it.SHA256[:]), Name: it.Name}
}

// itemInfos reads the items ids; an item that is gone (or is not an item)
// is shown by its ID alone, with leaf -1.
func (s *Server) itemInfos(ctx context.Context, ids []vigil.ID) ([]itemInfo, error) {
	var out []itemInfo
	for _, id := range ids {
		if s.Evidence == nil {
			out = append(out, itemInfo{ID: id, LeafIndex: -1})
			continue
		}
		it, err := s.Evidence.Get(ctx, id)
		switch {
		case errors.Is(err, vigil.ErrNotFound):
			out = append(out, itemInfo{ID: id, LeafIndex: -1})
		case err != nil:
			return nil, err
		default:
			out = append(out, infoOf(it))
		}
	}
	return out, nil
}

type itemsData struct {
	Items []itemInfo
	Next  vigil.ID
}

// vaultList lists the items, a page at a time: leaf, size, type and
// coarse time; names only on an item's own page.
func (s *Server) vaultList(w http.ResponseWriter, r *http.Request) {
	ev, err := s.vault()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after, err := cursor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := ev.Page(r.Context(), after, pageSize+1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var d itemsData
	list, d.Next = onePage(list, func(l evidence.Listed) vigil.ID { return l.ID })
	for _, l := range list {
		info := infoOf(l.Item)
		info.Name, info.Created = "", l.Created
		d.Items = append(d.Items, info)
	}
	s.page(w, r, "evidence_vault", "evidence.vault.title", d)
}

type uploadData struct {
	Claim vigil.ID // attach the item to this claim next
	Max   int64
}

func (s *Server) uploadPage(w http.ResponseWriter, r *http.Request) {
	claim, err := formID(r, "claim")
	if err == nil {
		_, err = s.vault()
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, "evidence_upload", "evidence.upload.title", uploadData{Claim: claim, Max: s.maxUpload()})
}

// errTooBig is a file over Server.MaxUpload.
var errTooBig = errors.New("file over the upload limit")

// capped reads at most n bytes of r, and fails with errTooBig if r has
// more.
type capped struct {
	r io.Reader
	n int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, errTooBig
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	if c.n < 0 {
		return 0, errTooBig
	}
	return k, err
}

// upload streams a multipart form into the evidence vault: the parts are
// read in order (csrf, then an optional claim, then the file) and the
// file's bytes go straight into the vault's encrypting writer; nothing is
// buffered whole or written to disk in the clear. A form that is not
// multipart, a missing file or one over the limit is a 400 and stores
// nothing. The plain form gets a redirect to the item's page; the
// progress script (static/upload.js) follows it the same way.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	ev, err := s.vault()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The parts besides the file are small; allow them a little room.
	r.Body = http.MaxBytesReader(w, r.Body, s.maxUpload()+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		s.uploadFail(w, r, "evidence.err.malformed")
		return
	}
	var claim vigil.ID
	for {
		part, err := mr.NextPart()
		if err != nil {
			// io.EOF before any file, or a broken body.
			key := "evidence.err.nofile"
			if !errors.Is(err, io.EOF) {
				key = "evidence.err.malformed"
			}
			s.uploadFail(w, r, key)
			return
		}
		switch part.FormName() {
		case "claim":
			b, _ := io.ReadAll(io.LimitReader(part, 64))
			if len(b) > 0 {
				if claim, err = vigil.ParseID(string(b)); err != nil {
					s.uploadFail(w, r, "evidence.err.malformed")
					return
				}
			}
			continue
		case "file":
		default:
			continue
		}
		name := filepath.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
		if part.FileName() == "" || name == "." || name == "/" {
			s.uploadFail(w, r, "evidence.err.nofile")
			return
		}
		it, err := ev.Add(r.Context(), &capped{r: part, n: s.maxUpload()}, name, "")
		if err != nil {
			var mb *http.MaxBytesError
			switch {
			case errors.Is(err, errTooBig) || errors.As(err, &mb):
				s.uploadFail(w, r, "evidence.err.toolarge")
			case isMultipartErr(err):
				s.uploadFail(w, r, "evidence.err.malformed")
			default:
				s.fail(w, r, err)
			}
			return
		}
		next := "/evidence/" + it.ID.String() + "?added=1"
		if !claim.IsZero() {
			next += "&claim=" + claim.String()
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
}

// isMultipartErr reports whether err came from a broken multipart body
// rather than from the vault.
func isMultipartErr(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "multipart")
}

// uploadFail shows the upload form again with a message.
func (s *Server) uploadFail(w http.ResponseWriter, r *http.Request, key string) {
	v := s.newView(r, "evidence.upload.title", uploadData{Max: s.maxUpload()})
	v.Error = v.T(key, v.Bytes(s.maxUpload()))
	s.render(w, http.StatusBadRequest, "evidence_upload", v)
}

type itemData struct {
	Item  itemInfo
	Claim *claimRef // the claim to attach the item to, if one was chosen
	Added bool
}

// claimRef is a claim shown as an attach target.
type claimRef struct {
	ID       vigil.ID
	Quote    string
	Act      string
	Attached bool
}

// item reads the item of the path's {id}.
func (s *Server) item(r *http.Request) (EvidenceVault, evidence.Item, error) {
	ev, err := s.vault()
	if err != nil {
		return nil, evidence.Item{}, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, evidence.Item{}, err
	}
	it, err := ev.Get(r.Context(), id)
	return ev, it, err
}

func (s *Server) itemPage(w http.ResponseWriter, r *http.Request) {
	_, it, err := s.item(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := it.ID
	d := itemData{Item: infoOf(it), Added: r.FormValue("added") != ""}
	claim, err := formID(r, "claim")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !claim.IsZero() && s.Cases != nil {
		p := principal(r)
		_, cl, err := s.claimOf(r, p, claim)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Claim = &claimRef{ID: claim, Quote: cl.Quote, Attached: slices.Contains(cl.Evidence, id)}
		if a, err := s.act(r, p, cl.Act, false); err == nil {
			d.Claim.Act = a.Label
		}
	}
	v := s.newView(r, "evidence.item.title", d)
	if d.Added {
		v.Notice = v.T("evidence.item.added")
	}
	s.render(w, http.StatusOK, "evidence_item", v)
}

// itemContent streams an item's decrypted content, as the inbox serves a
// submission's file.
func (s *Server) itemContent(w http.ResponseWriter, r *http.Request) {
	ev, it, err := s.item(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc, err := ev.Open(r.Context(), it)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	serveDecrypted(w, r, it.Name, rc)
}

// attach adds the item to a claim's evidence (a new version of the claim)
// and shows the claim with its act's new status.
func (s *Server) attach(w http.ResponseWriter, r *http.Request) {
	_, it, err := s.item(r)
	if err == nil {
		_, err = s.cases()
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	claim, err := vigil.ParseID(strings.TrimSpace(r.PostFormValue("claim")))
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "evidence.err.claim")
		return
	}
	p := principal(r)
	rec, cl, err := s.claimOf(r, p, claim)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !slices.Contains(cl.Evidence, it.ID) {
		cl.Evidence = append(slices.Clone(cl.Evidence), it.ID)
		if _, err := s.Cases.Apply(r.Context(), p, []cases.Change{{Kind: cases.KindClaim, ID: claim, Version: rec.Version, Doc: cl}}); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/claims/"+claim.String()+"?saved=1", http.StatusSeeOther)
}

// --- Bundles ---

// bundleAct is an act of the chosen incident with its claims and their
// items, as bundle checkboxes.
type bundleAct struct {
	ID     vigil.ID
	Label  string
	Claims []bundleClaim
}

type bundleClaim struct {
	ID    vigil.ID
	Quote string
	Items []vigil.ID
}

type bundleData struct {
	Incidents []choice // to choose from, when none is chosen
	Next      vigil.ID
	Incident  *choice
	Acts      []bundleAct
	Item      vigil.ID // a single item chosen from its page
}

// bundlePage chooses what to export: an incident's acts, claims and
// their evidence items, or one item (?item=ID).
func (s *Server) bundlePage(w http.ResponseWriter, r *http.Request) {
	if _, err := s.cases(); err != nil || s.Bundle == nil {
		s.fail(w, r, vigil.ErrNotFound)
		return
	}
	p := principal(r)
	var d bundleData
	inc, err := formID(r, "incident")
	if err == nil {
		d.Item, err = formID(r, "item")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case !d.Item.IsZero():
	case inc.IsZero():
		after, err := cursor(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		recs, err := s.Cases.List(r.Context(), p, cases.KindIncident, after, pageSize+1)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		recs, d.Next = onePage(recs, func(r cases.Record) vigil.ID { return r.ID })
		for _, rec := range recs {
			d.Incidents = append(d.Incidents, choice{rec.ID, rec.Doc.(vigil.Incident).Title})
		}
	default:
		rec, err := s.Cases.Get(r.Context(), p, inc)
		if err == nil {
			if i, ok := rec.Doc.(vigil.Incident); ok {
				d.Incident = &choice{inc, i.Title}
			} else {
				err = vigil.ErrNotFound
			}
		}
		if err == nil {
			d.Acts, err = s.bundleActs(r, p, inc)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.page(w, r, "evidence_bundle", "evidence.bundle.title", d)
}

// bundleActs lists incident inc's acts, their claims and the claims'
// items.
func (s *Server) bundleActs(r *http.Request, p vigil.Principal, inc vigil.ID) ([]bundleAct, error) {
	ctx := r.Context()
	acts, err := s.Cases.Children(ctx, p, inc)
	if err != nil {
		return nil, err
	}
	var out []bundleAct
	for _, a := range acts {
		ba := bundleAct{ID: a.ID, Label: actLabel(a.Doc.(vigil.Act), s.langOf(r))}
		claims, err := s.Cases.Children(ctx, p, a.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range claims {
			cl := c.Doc.(vigil.Claim)
			ba.Claims = append(ba.Claims, bundleClaim{ID: c.ID, Quote: cl.Quote, Items: cl.Evidence})
		}
		out = append(out, ba)
	}
	return out, nil
}

// maxBundle bounds the records of one bundle, as the API's.
const maxBundle = 10000

// exportBundle checks that the principal may see every chosen record (a
// case record through package cases, an item through the vault) and
// streams their bundle: the zip `vigil bundle` writes (Server.Bundle).
func (s *Server) exportBundle(w http.ResponseWriter, r *http.Request) {
	ev, err := s.vault()
	if err != nil || s.Cases == nil || s.Bundle == nil {
		s.fail(w, r, vigil.ErrNotFound)
		return
	}
	p := principal(r)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "evidence.err.bundleids")
		return
	}
	var ids []vigil.ID
	for _, v := range r.PostForm["id"] {
		id, err := vigil.ParseID(v)
		if err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "evidence.err.bundleids")
			return
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || len(ids) > maxBundle {
		s.errorPage(w, r, http.StatusBadRequest, "evidence.err.bundleids")
		return
	}
	for _, id := range ids {
		_, err := s.Cases.Get(r.Context(), p, id)
		if errors.Is(err, vigil.ErrNotFound) {
			_, err = ev.Get(r.Context(), id)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	zw := &startWriter{start: func() {
		h := w.Header()
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", `attachment; filename="vigil-bundle.zip"`)
		w.WriteHeader(http.StatusOK)
	}, w: w}
	if err := s.Bundle(r.Context(), zw, ids, r.PostFormValue("content") != ""); err != nil {
		if zw.start == nil {
			panic(http.ErrAbortHandler) // the zip is cut short; its reader sees that
		}
		if errors.Is(err, vigil.ErrConflict) {
			s.errorPage(w, r, http.StatusConflict, "evidence.err.bundlewait")
			return
		}
		s.fail(w, r, err)
		return
	}
	if zw.start != nil {
		zw.start()
	}
}

// startWriter calls start once, before its first write: the answer's
// headers go out only when the bundle's first byte does, so an error
// before it still gets an error page.
type startWriter struct {
	start func()
	w     io.Writer
}

func (s *startWriter) Write(p []byte) (int, error) {
	if s.start != nil {
		s.start()
		s.start = nil
	}
	return s.w.Write(p)
}
