package aiproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/aiproxy/aiproxy"
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

// onStats is a hook that hands each request's Stats to f.
func onStats(f func(aiproxy.Stats)) []aiproxy.Hook {
	return []aiproxy.Hook{{AfterResponse: func(_ context.Context, _ *http.Request, s *aiproxy.Stats) { f(*s) }}}
}
