// Package golden runs the client-format translators' golden tests: txtar archives of named
// sections (input sections written by hand from the APIs' documentation, output sections
// checked against what the translator gives). "go test -update" rewrites the output sections.
package golden

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/format"
)

var update = flag.Bool("update", false, "rewrite the output sections of the golden files")

// Archive is a txtar archive: a comment, then sections "-- name --" each followed by its
// content. A section's content ends with the line before the next header; its final newline
// is not part of it.
type Archive struct {
	Comment  []byte
	Sections []Section
}

// Section is one named section.
type Section struct {
	Name string
	Data []byte
}

// Parse parses an archive.
func Parse(data []byte) *Archive {
	a := &Archive{}
	cur := -1
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		trim := bytes.TrimRight(line, "\n")
		if bytes.HasPrefix(trim, []byte("-- ")) && bytes.HasSuffix(trim, []byte(" --")) && len(trim) > 6 {
			a.Sections = append(a.Sections, Section{Name: string(trim[3 : len(trim)-3]), Data: []byte{}})
			cur = len(a.Sections) - 1
			continue
		}
		if cur < 0 {
			a.Comment = append(a.Comment, line...)
		} else {
			a.Sections[cur].Data = append(a.Sections[cur].Data, line...)
		}
	}
	for i := range a.Sections {
		a.Sections[i].Data = bytes.TrimSuffix(a.Sections[i].Data, []byte("\n"))
	}
	return a
}

// Format renders a as an archive.
func (a *Archive) Format() []byte {
	b := append([]byte(nil), a.Comment...)
	for _, s := range a.Sections {
		b = append(b, "-- "+s.Name+" --\n"...)
		b = append(b, s.Data...)
		b = append(b, '\n')
	}
	return b
}

// Get returns the content of a section and whether a has it.
func (a *Archive) Get(name string) ([]byte, bool) {
	for _, s := range a.Sections {
		if s.Name == name {
			return s.Data, true
		}
	}
	return nil, false
}

func (a *Archive) set(name string, data []byte) {
	for i := range a.Sections {
		if a.Sections[i].Name == name {
			a.Sections[i].Data = data
			return
		}
	}
	a.Sections = append(a.Sections, Section{Name: name, Data: data})
}

// Files returns the paths of the archives in dir, sorted.
func Files(t testing.TB, dir string) []string {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files in %s: %v", dir, err)
	}
	return paths
}

// Run runs translate on every archive in dir, as a subtest named after the file, and
// compares each section it returns with the archive's section of that name (which must
// exist, unless -update, which writes it).
func Run(t *testing.T, dir string, translate func(t *testing.T, a *Archive) []Section) {
	for _, path := range Files(t, dir) {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a := Parse(data)
			got := translate(t, a)
			if *update {
				for _, s := range got {
					a.set(s.Name, s.Data)
				}
				if err := os.WriteFile(path, a.Format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, s := range got {
				want, ok := a.Get(s.Name)
				if !ok {
					t.Errorf("section %q is missing; run go test -update to write it:\n%s", s.Name, s.Data)
					continue
				}
				if !bytes.Equal(want, s.Data) {
					t.Errorf("section %q:\ngot:\n%s\nwant:\n%s", s.Name, s.Data, want)
				}
			}
		})
	}
}

// Seeds returns the section name of every archive in dir that has it, for a fuzz target's
// seed corpus; none is a failure.
func Seeds(f *testing.F, dir, name string) [][]byte {
	var out [][]byte
	for _, path := range Files(f, dir) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if b, ok := Parse(data).Get(name); ok {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		f.Fatalf("no %s sections in %s", name, dir)
	}
	return out
}

// StatusAndBody splits a section "<status> <body>" (openai-error, chat-stream-error).
func StatusAndBody(b []byte) (int, []byte) {
	status, body, _ := bytes.Cut(b, []byte(" "))
	n, _ := strconv.Atoi(string(status))
	return n, body
}

// ErrorKind names the kind of a ParseRequest error for an error section: "unsupported"
// (format.ErrUnsupported), "invalid" (format.ErrInvalidRequest) or "other".
func ErrorKind(err error) string {
	switch {
	case errors.Is(err, format.ErrUnsupported):
		return "unsupported"
	case errors.Is(err, format.ErrInvalidRequest):
		return "invalid"
	}
	return "other"
}

// Stream is a client-format stream translator: each format package's *Stream.
type Stream interface {
	Chunk(dst, data []byte) ([]byte, error)
	End(dst []byte) []byte
	Fail(dst []byte, status int, body []byte) []byte
}

// ReplayStream feeds s the data of each "data: " line of the archive's chat-stream section and
// ends it as chat-stream-error ("<status> <OpenAI error body>") says, or normally; it returns
// the events s framed.
func ReplayStream(t testing.TB, a *Archive, chat []byte, s Stream) []byte {
	t.Helper()
	var got []byte
	for _, line := range bytes.Split(chat, []byte("\n")) {
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			continue
		}
		var err error
		if got, err = s.Chunk(got, data); err != nil {
			t.Fatal(err)
		}
	}
	if e, ok := a.Get("chat-stream-error"); ok {
		status, body := StatusAndBody(e)
		return s.Fail(got, status, body)
	}
	return s.End(got)
}
