package providertest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Golden is one golden file: a txtar-style archive of named sections.
//
//	comment lines (ignored)
//	-- request.json --
//	{...}
//	-- upstream-request.http --
//	POST https://...
//
// A section's content runs from the line after its header to the next header. A trailing
// newline is removed from every section except upstream-stream, whose bytes are exact; in
// upstream-stream the two-character sequences \r and \n are NOT interpreted, so write the
// bytes as they come (LF line ends), and use a separate file for CRLF streams if needed.
type Golden struct {
	Path     string
	Sections map[string][]byte
	order    []string
}

// Has reports whether the golden has a section.
func (g *Golden) Has(name string) bool { _, ok := g.Sections[name]; return ok }

// ParseGolden parses an archive.
func ParseGolden(path string, data []byte) (*Golden, error) {
	g := &Golden{Path: path, Sections: map[string][]byte{}}
	var cur string
	var buf []byte
	have := false
	flush := func() {
		if !have {
			return
		}
		if cur != "upstream-stream" {
			buf = bytes.TrimSuffix(buf, []byte("\n"))
		}
		g.Sections[cur] = buf
		g.order = append(g.order, cur)
	}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		trim := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(trim, []byte("-- ")) && bytes.HasSuffix(trim, []byte(" --")) && len(trim) > 6 {
			flush()
			cur = string(trim[3 : len(trim)-3])
			if _, dup := g.Sections[cur]; dup {
				return nil, fmt.Errorf("%s: section %q appears twice", path, cur)
			}
			buf, have = []byte{}, true
			continue
		}
		if have {
			buf = append(buf, line...)
		}
	}
	flush()
	return g, nil
}

// LoadGoldens reads every *.txtar file in dir, sorted by name.
func LoadGoldens(dir string) ([]*Golden, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []*Golden
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		g, err := ParseGolden(p, data)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// Name is the golden's file name without extension, for subtest names.
func (g *Golden) Name() string {
	return strings.TrimSuffix(filepath.Base(g.Path), ".txtar")
}
