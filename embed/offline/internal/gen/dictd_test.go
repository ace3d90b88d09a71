package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

func TestDictB64(t *testing.T) {
	for s, want := range map[string]int{"A": 0, "B": 1, "/": 63, "BA": 64, "5I": 57*64 + 8, "Fz": 5*64 + 51} {
		if got, err := dictB64(s); err != nil || got != want {
			t.Errorf("dictB64(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	if _, err := dictB64("a-b"); err == nil {
		t.Error("dictB64 accepted a bad digit")
	}
}

func TestDictd(t *testing.T) {
	dir := t.TempDir()
	body := "00-database-info\nlicence text\n" +
		"Layover \\Lay\"o`ver\\, n. [From lay + over.]\n   A stop in a journey.\n   [1913 Webster]\n\n   2. A wait between flights.\n"
	info := len("00-database-info\nlicence text\n")
	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	gz.Write([]byte(body))
	gz.Close()
	os.WriteFile(filepath.Join(dir, "x.dict.dz"), z.Bytes(), 0o644)
	enc := func(n int) string {
		const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		s := ""
		for {
			s = string(digits[n%64]) + s
			n /= 64
			if n == 0 {
				return s
			}
		}
	}
	idx := "00-database-info\tA\t" + enc(info) + "\n" +
		"layover\t" + enc(info) + "\t" + enc(len(body)-info) + "\n" +
		"Layover\t" + enc(info) + "\t" + enc(len(body)-info) + "\n"
	os.WriteFile(filepath.Join(dir, "x.index"), []byte(idx), 0o644)
	var out bytes.Buffer
	n, err := dictd(filepath.Join(dir, "x.index"), filepath.Join(dir, "x.dict.dz"), &out)
	if err != nil {
		t.Fatal(err)
	}
	want := "layover n a stop in a journey\nlayover 2 a wait between flights\n"
	if n != 2 || out.String() != want {
		t.Fatalf("got %d lines:\n%s\nwant:\n%s", n, out.String(), want)
	}
}
