package vectorstore_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/vectorstore"
)

func TestSecretNeverPrintsItsValue(t *testing.T) {
	const value = "hunter2-s3cret"
	s := vectorstore.Secret(value)
	type opts struct{ Password vectorstore.Secret }
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, opts{s}), fmt.Sprintf(verb, &opts{s}))
	}
	j, err := json.Marshal(opts{s})
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(j), s.String())
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "s", s, "o", opts{s})
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "s", s, "o", opts{s})
	outs = append(outs, buf.String())
	for _, out := range outs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Errorf("the value leaked: %s", out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("no redaction mark in %s", out)
		}
	}
}

func TestSecretShowsAReference(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   "",
		"{vault://hashicorp-vault/redis/pw}": "{vault://hashicorp-vault/redis/pw}",
		"{vault://a/b} and text":             "[redacted]",
		"x{vault://a/b}":                     "[redacted]",
	} {
		if got := vectorstore.Secret(in).String(); got != want {
			t.Errorf("Secret(%q).String() = %q, want %q", in, got, want)
		}
	}
}
