package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/aiproxy/aiproxy/embed/offline/internal/core"
)

// dictd reads a dictd database (NAME.index and NAME.dict.dz, as Debian's dict-* packages ship
// them) and writes one training line per paragraph of every entry, headword first, tokenized
// with core.Tokenize. Entries that several headwords share are written once, in file order;
// the 00-database-* entries (licence, URL) are skipped. Bracketed text (etymologies,
// "[1913 Webster]" source notes) and GCIDE's pronunciation between backslashes are dropped.
func dictd(index, dict string, w io.Writer) (int, error) {
	idx, err := os.ReadFile(index)
	if err != nil {
		return 0, err
	}
	fh, err := os.Open(dict)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	gz, err := gzip.NewReader(fh) // dictzip is gzip with an index in the extra field
	if err != nil {
		return 0, err
	}
	data, err := io.ReadAll(gz)
	if err != nil {
		return 0, err
	}
	type entry struct {
		off, n int
		head   string
	}
	seen := map[[2]int]bool{}
	var entries []entry
	for _, line := range strings.Split(string(idx), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || strings.HasPrefix(f[0], "00-database-") || strings.HasPrefix(f[0], "00database") {
			continue
		}
		off, err1 := dictB64(f[1])
		n, err2 := dictB64(f[2])
		if err1 != nil || err2 != nil || off+n > len(data) {
			return 0, fmt.Errorf("%s: bad index line %q", index, line)
		}
		k := [2]int{off, n}
		if seen[k] {
			continue
		}
		seen[k] = true
		entries = append(entries, entry{off, n, f[0]})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].off < entries[j].off })
	lines := 0
	for _, e := range entries {
		body := string(data[e.off : e.off+e.n])
		body = dictNoise.ReplaceAllString(body, " ")
		head := core.Tokenize(e.head)
		for _, para := range strings.Split(body, "\n\n") {
			toks := core.Tokenize(para)
			if len(toks) > 0 && len(head) > 0 && toks[0] != head[0] {
				toks = append(append([]string{}, head...), toks...)
			}
			n, err := writeLines(w, toks)
			lines += n
			if err != nil {
				return lines, err
			}
		}
	}
	return lines, nil
}

// dictNoise matches bracketed notes and \pro*nun"ci*a`tion\ marks.
var dictNoise = regexp.MustCompile(`\[[^\]\n]*\]|\\[^\\\n]*\\`)

// dictB64 decodes dictd's index numbers: big-endian base 64, digits A–Z a–z 0–9 + /.
func dictB64(s string) (int, error) {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	n := 0
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(digits, s[i])
		if d < 0 || n > 1<<40 {
			return 0, fmt.Errorf("bad dictd number %q", s)
		}
		n = n*64 + d
	}
	return n, nil
}
