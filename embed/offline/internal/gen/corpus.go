package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/embed/offline/internal/core"
)

// corpus writes one training line per WordNet lemma and per documentation paragraph, all
// tokenized with core.Tokenize so that training and lookup see the same tokens.
func corpus(root, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n, err := wordnetLines(filepath.Join(root, "usr/share/wordnet"), w)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wordnet: %d lines\n", n)
	for _, d := range []struct{ dir, ext string }{
		{"usr/share/doc/python3.11/html/_sources", ".rst.txt"},
		{"usr/share/doc/nodejs/api", ".md.gz"},
	} {
		n, err := docLines(filepath.Join(root, d.dir), d.ext, w)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d lines\n", d.dir, n)
	}
	// Dictionaries in dictd format: GCIDE for everyday English, FOLDOC, the Jargon File and
	// V.E.R.A. for computing.
	for _, db := range dictDBs {
		base := filepath.Join(root, "usr/share/dictd", db)
		n, err := dictd(base+".index", base+".dict.dz", w)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d lines\n", db, n)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// dictDBs are the dictd databases of the corpus, in order.
var dictDBs = []string{"gcide", "foldoc", "jargon", "vera"}

type synset struct {
	words  []string
	rel    []string // keys of related synsets (offset+pos)
	domain []string // keys of topic domains (;c)
	member []string // keys of topic-domain members (-c)
	gloss  string
}

// wordnetLines follows the shared recipe (lemma, synonyms, two lemmas of each related synset,
// gloss) and adds WordNet's topic domains: each lemma line carries its domain's name, and each
// domain gets lines listing its members, so "derivative" sits near "calculus" and "debug" near
// "computer science".
func wordnetLines(dir string, w io.Writer) (int, error) {
	syn := map[string]*synset{}
	var order []string
	for _, pos := range []string{"noun", "verb", "adj", "adv"} {
		data, err := os.ReadFile(filepath.Join(dir, "data."+pos))
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line == "" || strings.HasPrefix(line, "  ") {
				continue
			}
			head, gloss, _ := strings.Cut(line, " | ")
			f := strings.Fields(head)
			key := f[0] + normPos(f[2])
			n, err := strconv.ParseInt(f[3], 16, 32)
			if err != nil {
				return 0, fmt.Errorf("data.%s: %v", pos, err)
			}
			s := &synset{gloss: gloss}
			for i := 0; i < int(n); i++ {
				word := f[4+2*i]
				if j := strings.IndexByte(word, '('); j >= 0 {
					word = word[:j]
				}
				s.words = append(s.words, strings.ReplaceAll(word, "_", " "))
			}
			i := 4 + 2*int(n)
			pc, _ := strconv.Atoi(f[i])
			i++
			for k := 0; k < pc; k++ {
				sym, off, p := f[i], f[i+1], f[i+2]
				rk := off + normPos(p)
				switch sym {
				case "@", "@i", "&", "=", "+", "#m", "#p", "%m", "%p", "~":
					s.rel = append(s.rel, rk)
				case ";c":
					s.domain = append(s.domain, rk)
				case "-c":
					s.member = append(s.member, rk)
				}
				i += 4
			}
			syn[key] = s
			order = append(order, key)
		}
	}
	lines := 0
	emit := func(parts []string) error {
		toks := core.Tokenize(strings.Join(parts, " "))
		if len(toks) < 2 {
			return nil
		}
		lines++
		_, err := io.WriteString(w, strings.Join(toks, " ")+"\n")
		return err
	}
	first := func(keys []string, k int) []string {
		var out []string
		for _, rk := range keys {
			if r := syn[rk]; r != nil {
				out = append(out, r.words[:min(k, len(r.words))]...)
			}
		}
		return out
	}
	for _, key := range order {
		s := syn[key]
		related := first(s.rel, 2)
		domains := first(s.domain, 1)
		for _, word := range s.words {
			parts := []string{word}
			parts = append(parts, domains...)
			for _, x := range s.words {
				if x != word {
					parts = append(parts, x)
				}
			}
			parts = append(parts, related...)
			parts = append(parts, s.gloss)
			parts = append(parts, domains...)
			if err := emit(parts); err != nil {
				return lines, err
			}
		}
		members := first(s.member, 1)
		for i := 0; i < len(members); i += 6 {
			parts := append([]string{s.words[0]}, members[i:min(i+6, len(members))]...)
			if err := emit(parts); err != nil {
				return lines, err
			}
		}
	}
	return lines, nil
}

func normPos(p string) string {
	if p == "s" {
		return "a"
	}
	return p
}

// docLines writes one line per paragraph (blank-line separated, at most 300 tokens) of every
// file under dir whose name ends in ext, in sorted order.
func docLines(dir, ext string, w io.Writer) (int, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ext) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	sort.Strings(files)
	lines := 0
	for _, p := range files {
		var r io.Reader
		fh, err := os.Open(p)
		if err != nil {
			return lines, err
		}
		r = fh
		if strings.HasSuffix(p, ".gz") {
			gz, err := gzip.NewReader(fh)
			if err != nil {
				return lines, err
			}
			r = gz
		}
		data, err := io.ReadAll(r)
		fh.Close()
		if err != nil {
			return lines, err
		}
		for _, para := range strings.Split(string(data), "\n\n") {
			n, err := writeLines(w, core.Tokenize(para))
			lines += n
			if err != nil {
				return lines, err
			}
		}
	}
	return lines, nil
}

// writeLines writes a paragraph's tokens as corpus lines of at most 300 tokens, dropping
// pieces shorter than 3, and returns how many lines it wrote.
func writeLines(w io.Writer, toks []string) (int, error) {
	lines := 0
	for len(toks) > 0 {
		chunk := toks[:min(300, len(toks))]
		toks = toks[len(chunk):]
		if len(chunk) < 3 {
			continue
		}
		lines++
		if _, err := io.WriteString(w, strings.Join(chunk, " ")+"\n"); err != nil {
			return lines, err
		}
	}
	return lines, nil
}
