package casefile

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/vigil-hr/vigil"
)

// Options configure [Parse].
type Options struct {
	// MaxSize is the largest input Parse reads, in bytes; Parse stops
	// reading at MaxSize+1 bytes and reports a problem wrapping
	// vigil.ErrTooLarge. Zero means [DefaultMaxSize].
	MaxSize int64
}

// Parse reads a vigil-case/1 file from r and checks everything: the JSON
// (strictly: no unknown members, no duplicate members, no null, no
// trailing data, valid UTF-8, numbers of the right kind, nesting at most
// 64 deep, at most opts.MaxSize bytes), then every record ([File.Validate]).
// It returns the file only if all of it is valid. Otherwise the error is a
// [*Problems] listing every problem with its JSON path; an error reading r
// is returned wrapped instead.
//
// Parse decodes as it reads, so it never holds more than the decoded file
// and one token in memory, and refuses an oversized input after reading
// MaxSize+1 bytes of it.
func Parse(r io.Reader, opts Options) (*File, error) {
	max := opts.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	cr := &capReader{r: r, max: max}
	d := &decoder{dec: json.NewDecoder(&tokenReader{r: &utf8Reader{r: cr}}), max: max}
	d.dec.UseNumber()
	var f File
	d.top(reflect.ValueOf(&f).Elem())
	if d.ioErr != nil {
		return nil, fmt.Errorf("read case file: %w", d.ioErr)
	}
	if d.fatal {
		return nil, &d.probs
	}
	v := validator{f: &f, probs: &d.probs, skip: d.paths}
	v.run()
	if err := d.probs.err(); err != nil {
		return nil, err
	}
	return &f, nil
}

var (
	errTooLarge    = errors.New("too large")
	errInvalidUTF8 = errors.New("invalid UTF-8")
	errLongToken   = errors.New("token too long")
)

// Token limits. No valid file has a longer token: the longest text a
// record allows is [vigil.MaxTextLen] bytes, six times that escaped.
const (
	maxToken = 1 << 20 // bytes of one string, number or literal
	maxSpace = 4096    // bytes of one run of whitespace kept
)

// tokenReader bounds what encoding/json's Decoder buffers. The Decoder
// keeps a whole token, and a whole run of whitespace, in memory (it does
// not discard whitespace it has skipped until it finds a token), so a
// file of 256 MiB of spaces or one 256 MiB string would cost that much
// memory. tokenReader fails on a string or other token longer than
// maxToken, and drops whitespace beyond maxSpace bytes in a run outside
// strings, which changes nothing a reader of JSON sees but shifts the byte
// offsets reported after such a run.
type tokenReader struct {
	r        io.Reader
	inString bool
	escape   bool
	run      int // length of the current string, token or whitespace run
	space    bool
}

func (t *tokenReader) Read(p []byte) (int, error) {
	for {
		n, err := t.r.Read(p)
		w := 0
		for _, c := range p[:n] {
			switch {
			case t.inString:
				t.run++
				switch {
				case t.escape:
					t.escape = false
				case c == '\\':
					t.escape = true
				case c == '"':
					t.inString = false
					t.run = 0
				}
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
				if !t.space {
					t.space, t.run = true, 0
				}
				t.run++
				if t.run > maxSpace {
					continue // dropped
				}
			case c == '"':
				t.inString, t.space, t.run = true, false, 1
			case c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':':
				t.space, t.run = false, 0
			default:
				if t.space {
					t.space, t.run = false, 0
				}
				t.run++
			}
			if t.run > maxToken && !t.space {
				return 0, errLongToken
			}
			p[w] = c
			w++
		}
		if w > 0 || n == 0 || err != nil {
			return w, err
		}
	}
}

// capReader reads at most max+1 bytes of r, and fails with errTooLarge
// once more than max arrived.
type capReader struct {
	r      io.Reader
	n, max int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, errTooLarge
	}
	if rest := c.max + 1 - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return 0, errTooLarge
	}
	return n, err
}

// utf8Reader fails with errInvalidUTF8 on input that is not UTF-8. It
// exists because encoding/json silently replaces invalid bytes in strings
// with U+FFFD, which would change a quote without telling anyone. It never
// passes on an invalid or incomplete sequence: the start of a rune cut at
// the end of one read is held back for the next. Reads need room for
// more than utf8.UTFMax bytes, as json.Decoder's always have.
type utf8Reader struct {
	r    io.Reader
	pend []byte
	bad  bool
}

func (u *utf8Reader) Read(p []byte) (int, error) {
	if u.bad {
		return 0, errInvalidUTF8
	}
	k := copy(p, u.pend)
	u.pend = u.pend[:0]
	n, err := u.r.Read(p[k:])
	data := p[:k+n]
	i := 0
	for i < len(data) {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(data[i:]) {
			break
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			u.bad = true
			return 0, errInvalidUTF8
		}
		i += size
	}
	if i < len(data) {
		if err == io.EOF {
			u.bad = true
			return 0, errInvalidUTF8
		}
		u.pend = append(u.pend, data[i:]...)
	}
	return i, err
}

// decoder decodes the token stream into a File, guided by the Go types, so
// that it can report every unknown member, wrong type and duplicate with
// its path and go on. encoding/json's Decode stops at the first.
type decoder struct {
	dec   *json.Decoder
	max   int64
	probs Problems
	paths map[string]bool // paths with a decoding problem
	fatal bool            // the JSON is broken; stop
	ioErr error
}

func (d *decoder) problem(path, msg string, err error) {
	if d.paths == nil {
		d.paths = make(map[string]bool)
	}
	d.paths[path] = true
	d.probs.add(path, msg, err)
}

// next reads a token; on a syntax, size or read error it records it and
// returns ok false.
func (d *decoder) next() (tok json.Token, ok bool) {
	if d.fatal || d.ioErr != nil {
		return nil, false
	}
	tok, err := d.dec.Token()
	if err != nil {
		d.stop(err)
		return nil, false
	}
	return tok, true
}

// stop records the error that ends decoding.
func (d *decoder) stop(err error) {
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, errTooLarge):
		d.problem("$", fmt.Sprintf("larger than %d bytes", d.max), vigil.ErrTooLarge)
	case errors.Is(err, errLongToken):
		d.problem("$", fmt.Sprintf("a string or other token longer than %d bytes near byte %d", maxToken, d.dec.InputOffset()), vigil.ErrTooLarge)
	case errors.Is(err, errInvalidUTF8):
		d.problem("$", fmt.Sprintf("not valid UTF-8 near byte %d", d.dec.InputOffset()), vigil.ErrInvalid)
	case errors.As(err, &syn):
		d.problem("$", fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: ")), vigil.ErrInvalid)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		d.problem("$", fmt.Sprintf("unexpected end of input at byte %d", d.dec.InputOffset()), vigil.ErrInvalid)
	default:
		d.ioErr = err
		return
	}
	d.fatal = true
}

// top decodes the one top-level value and checks that nothing follows.
func (d *decoder) top(v reflect.Value) {
	tok, err := d.dec.Token()
	if err == io.EOF {
		d.problem("$", "empty input; want a JSON object", vigil.ErrInvalid)
		d.fatal = true
		return
	}
	if err != nil {
		d.stop(err)
		return
	}
	d.value(tok, v, "$", 1)
	if d.fatal || d.ioErr != nil {
		return
	}
	if _, err := d.dec.Token(); err != io.EOF {
		if err != nil && !errors.As(err, new(*json.SyntaxError)) {
			d.stop(err)
			if d.fatal || d.ioErr != nil {
				return
			}
		}
		d.problem("$", fmt.Sprintf("data after the end of the JSON object at byte %d", d.dec.InputOffset()), vigil.ErrInvalid)
		d.fatal = true
	}
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// value decodes the value that starts with tok into v.
func (d *decoder) value(tok json.Token, v reflect.Value, path string, depth int) {
	t := v.Type()
	if tok == nil {
		d.problem(path, "null is not allowed; leave the member out", vigil.ErrInvalid)
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		s, ok := tok.(string)
		if !ok {
			d.wrongType(tok, path, "a string", depth)
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.problem(path, strings.TrimPrefix(err.Error(), vigil.ErrInvalid.Error()+": "), vigil.ErrInvalid)
		}
		return
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := tok.(string)
		if !ok {
			d.wrongType(tok, path, "a string", depth)
			return
		}
		v.SetString(s)
	case reflect.Int:
		n, ok := tok.(json.Number)
		if !ok {
			d.wrongType(tok, path, "an integer", depth)
			return
		}
		i, err := strconv.ParseInt(string(n), 10, 0)
		if err != nil {
			d.problem(path, "not an integer in range", vigil.ErrInvalid)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		n, ok := tok.(json.Number)
		if !ok {
			d.wrongType(tok, path, "a number", depth)
			return
		}
		x, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			d.problem(path, "not a number in range", vigil.ErrInvalid)
			return
		}
		v.SetFloat(x)
	case reflect.Pointer:
		e := reflect.New(t.Elem())
		d.value(tok, e.Elem(), path, depth)
		v.Set(e)
	case reflect.Slice:
		if tok != json.Delim('[') {
			d.wrongType(tok, path, "an array", depth)
			return
		}
		for i := 0; d.dec.More(); i++ {
			tok, ok := d.next()
			if !ok {
				return
			}
			e := reflect.New(t.Elem()).Elem()
			d.value(tok, e, path+"["+strconv.Itoa(i)+"]", depth+1)
			if d.fatal || d.ioErr != nil {
				return
			}
			v.Set(reflect.Append(v, e))
		}
		d.end(']')
	case reflect.Map:
		if tok != json.Delim('{') {
			d.wrongType(tok, path, "an object", depth)
			return
		}
		m := reflect.MakeMap(t)
		for d.dec.More() {
			k, ok := d.next()
			if !ok {
				return
			}
			name := k.(string)
			p := path + member(name)
			if m.MapIndex(reflect.ValueOf(name)).IsValid() {
				d.problem(p, "member given twice", vigil.ErrInvalid)
			}
			tok, ok := d.next()
			if !ok {
				return
			}
			e := reflect.New(t.Elem()).Elem()
			d.value(tok, e, p, depth+1)
			m.SetMapIndex(reflect.ValueOf(name), e)
		}
		v.Set(m)
		d.end('}')
	case reflect.Struct:
		if tok != json.Delim('{') {
			d.wrongType(tok, path, "an object", depth)
			return
		}
		fields := fieldsOf(t)
		seen := make(map[string]bool, len(fields))
		for d.dec.More() {
			k, ok := d.next()
			if !ok {
				return
			}
			name := k.(string)
			p := path + member(name)
			tok, ok := d.next()
			if !ok {
				return
			}
			i, known := fields[name]
			switch {
			case !known:
				d.problem(p, "unknown member", vigil.ErrInvalid)
				d.skip(tok, depth+1)
				continue
			case seen[name]:
				d.problem(p, "member given twice", vigil.ErrInvalid)
			}
			seen[name] = true
			d.value(tok, v.Field(i), p, depth+1)
		}
		d.end('}')
	default:
		panic("casefile: no decoder for " + t.String())
	}
}

// end reads the closing delimiter of an array or object.
func (d *decoder) end(want json.Delim) {
	if tok, ok := d.next(); ok && tok != want {
		// More reported false, so the token is the closing delimiter or
		// the decoder already failed; anything else is a bug.
		panic(fmt.Sprintf("casefile: want %v, got %v", want, tok))
	}
}

// wrongType reports a value of the wrong JSON type and skips it.
func (d *decoder) wrongType(tok json.Token, path, want string, depth int) {
	got := "a string"
	switch tok := tok.(type) {
	case json.Delim:
		got = "an object"
		if tok == '[' {
			got = "an array"
		}
	case json.Number:
		got = "a number"
	case bool:
		got = "true or false"
	}
	d.problem(path, "want "+want+", got "+got, vigil.ErrInvalid)
	d.skip(tok, depth)
}

// skip reads past the rest of the value that starts with tok. It nests
// with a counter, not recursion, and stops at maxDepth.
func (d *decoder) skip(tok json.Token, depth int) {
	open := 0
	for {
		switch tok {
		case json.Delim('['), json.Delim('{'):
			open++
			if depth+open > maxDepth {
				d.problem("$", fmt.Sprintf("nested deeper than %d levels at byte %d", maxDepth, d.dec.InputOffset()), vigil.ErrInvalid)
				d.fatal = true
				return
			}
		case json.Delim(']'), json.Delim('}'):
			open--
		}
		if open == 0 {
			return
		}
		var ok bool
		if tok, ok = d.next(); !ok {
			return
		}
	}
}

// member returns the path step for an object member: ".name" for a plain
// name, `["…"]` (quoted, cut to 64 bytes) for anything else.
func member(name string) string {
	plain := name != "" && len(name) <= 64
	for i := 0; plain && i < len(name); i++ {
		c := name[i]
		plain = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	if plain {
		return "." + name
	}
	return "[" + quoteKey(name) + "]"
}

var fieldCache sync.Map // reflect.Type → map[string]int

// fieldsOf maps the JSON names of t's fields to their indexes.
func fieldsOf(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "" {
			m[name] = i
		}
	}
	fieldCache.Store(t, m)
	return m
}

// jsonName returns the JSON name of an exported field, "" for one JSON
// leaves out.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name
}
