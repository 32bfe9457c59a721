package account

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
)

// maxCSRFPart bounds what is read of a multipart body to find its CSRF
// field: the field must be the body's first part, so a few kilobytes.
const maxCSRFPart = 64 << 10

// multipartCSRF returns the CSRF field of a multipart/form-data body
// without consuming it: the field must be the first part (a form lists its
// hidden csrf input first). The bytes read to find it are put back in front
// of the rest of r.Body, so the handler still streams the whole body (an
// upload is never buffered). It returns "" if the first part is not the
// field or the body is not multipart.
func multipartCSRF(r *http.Request) string {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return ""
	}
	var seen bytes.Buffer
	orig := r.Body
	tee := io.TeeReader(io.LimitReader(orig, maxCSRFPart), &seen)
	defer func() {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(seen.Bytes()), orig), orig}
	}()
	mr := multipart.NewReader(tee, params["boundary"])
	p, err := mr.NextPart()
	if err != nil || p.FormName() != CSRFField || p.FileName() != "" {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(p, 256))
	if err != nil {
		return ""
	}
	return string(b)
}
