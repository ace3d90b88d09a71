package aiproxy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
)

// lockedBuffer collects log output from concurrent requests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// fmtAll renders values every way a program might print or log them.
func fmtAll(vs ...any) string {
	var out bytes.Buffer
	for _, v := range vs {
		fmt.Fprintf(&out, "%v %+v %#v %s %d %x %q\n", v, v, v, v, v, v, v)
		j, _ := json.Marshal(v)
		out.Write(j)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("v", "v", v)
		slog.New(slog.NewTextHandler(&out, nil)).Info("v", "v", v)
	}
	return out.String()
}
