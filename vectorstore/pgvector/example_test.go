package pgvectorstore_test

import (
	"encoding/json"
	"fmt"

	"github.com/aiproxy/aiproxy/vectorstore"
	pgvectorstore "github.com/aiproxy/aiproxy/vectorstore/pgvector"
)

// A Kong vectordb section with strategy pgvector decodes into Options; the dimensions and the
// metric sit one level up, beside the pgvector block.
func ExampleOptions_kong() {
	config := []byte(`{
		"strategy": "pgvector", "distance_metric": "euclidean", "threshold": 0.5, "dimensions": 1536,
		"pgvector": {"host": "pg.internal", "port": 5432, "database": "kong-pgvector", "user": "postgres",
		             "password": "{vault://hashicorp-vault/pg/password}", "ssl": true, "ssl_required": true,
		             "ssl_verify": true, "ssl_version": "tlsv1_3", "timeout": 3000}
	}`)
	var vectordb struct {
		DistanceMetric vectorstore.Metric    `json:"distance_metric"`
		Dimensions     int                   `json:"dimensions"`
		PGVector       pgvectorstore.Options `json:"pgvector"`
	}
	if err := json.Unmarshal(config, &vectordb); err != nil {
		panic(err)
	}
	opts := vectordb.PGVector
	opts.Dimensions, opts.Metric = vectordb.Dimensions, vectordb.DistanceMetric
	// aiproxy.New resolves secret references; using this package alone, set opts.Password to the value.
	// store, err := pgvectorstore.New(ctx, opts); defer store.Close()
	fmt.Println(opts.Host, opts.Port, opts.Database, opts.User, opts.SSL, opts.SSLRequired, opts.SSLVerify, opts.SSLVersion, opts.Timeout)
	fmt.Println(opts.Dimensions, opts.Metric)
	// Output:
	// pg.internal 5432 kong-pgvector [redacted] true true true tlsv1_3 3000
	// 1536 euclidean
}
