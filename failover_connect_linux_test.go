//go:build linux

package aiproxy

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

// unanswered returns the URL of a listener that never completes a connection: its accept
// queue (backlog 0) is full, so the kernel drops further connection attempts.
func unanswered(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for { // fill the queue
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return "http://" + addr + "/v1/chat/completions"
}

// TestConnectTimeout: connect_timeout bounds connecting; a connection that never completes
// is a timeout that never reached the upstream, so it fails over under "timeout" alone.
func TestConnectTimeout(t *testing.T) {
	other := aiproxytest.NewOpenAI()
	defer other.Close()
	ta, tb := openaiTarget(other, "unanswered"), openaiTarget(other, "other")
	ta.Model.Options.UpstreamURL, ta.Weight = unanswered(t), 1000
	var got []Stats
	p := newProxy(t, Config{Targets: []Target{ta, tb}, Hooks: onStats(func(s Stats) { got = append(got, s) }),
		Balancer: BalancerConfig{ConnectTimeout: 100 * time.Millisecond, FailoverCriteria: []string{"timeout"}}})
	start := time.Now()
	rec := post(t, p, hello)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	assert.Equal(t, "other", servedModel(t, rec.Body.Bytes()))
	assert.Less(t, time.Since(start), 5*time.Second)
	require.Len(t, got, 1)
	require.Len(t, got[0].Attempts, 1)
	var pe *provider.Error
	require.ErrorAs(t, got[0].Attempts[0].Err, &pe)
	assert.Equal(t, "timeout", pe.Code)
}
