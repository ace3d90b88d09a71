package aiproxy

import (
	"os/exec"
	"strings"
	"testing"
)

// The root package links no database client, AWS STS client or embedded model: a program
// that imports only it pays for none of them. Their adapters are packages of their own
// (vectorstore/redis, vectorstore/pgvector, credential/awsrole, embed/offline), which
// package kong imports for Kong files.
func TestRootLinksNoAdapter(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, heavy := range []string{
		"github.com/jackc/pgx", "github.com/redis/go-redis", "github.com/aws/aws-sdk-go-v2/service/sts",
		"github.com/aiproxy/aiproxy/embed/offline", "github.com/hashicorp/vault", "go.opentelemetry.io/otel/sdk",
	} {
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, heavy) {
				t.Errorf("the root package depends on %s", dep)
			}
		}
	}
}
