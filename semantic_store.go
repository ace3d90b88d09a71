package aiproxy

import (
	"context"
	"fmt"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
)

// checkVectorDB validates, without I/O, the store that db names: Redis and pgvector need
// their adapter's Opener in db.Store, which only programs that import the adapter have.
func checkVectorDB(db *VectorDBConfig) error {
	switch db.Strategy {
	case "", "memory":
	case "redis", "pgvector":
		if db.Store == nil {
			pkg, opts := "redis", "redisstore"
			if db.Strategy == "pgvector" {
				pkg, opts = "pgvector", "pgvectorstore"
			}
			return fmt.Errorf("vectordb.strategy %s needs VectorDBConfig.Store: import github.com/aiproxy/aiproxy/vectorstore/%s and set Store to a &%s.Options{…} "+
				"(package kong does this for Kong files)", db.Strategy, pkg, opts)
		}
	default:
		return fmt.Errorf("vectordb.strategy %q must be redis, pgvector or memory", db.Strategy)
	}
	return nil
}

// openStore opens the store that db names (nil: memory) for vectors of dims values.
func openStore(ctx context.Context, db *VectorDBConfig, metric vectorstore.Metric, dims int, vaults *secret.Vaults) (VectorStore, error) {
	if db == nil || db.Store == nil {
		return vectorstore.NewMemory(metric, dims), nil
	}
	return db.Store.Open(ctx, dims, metric, vaults)
}
