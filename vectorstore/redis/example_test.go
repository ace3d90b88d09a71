package redisstore_test

import (
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/aiproxy/aiproxy/vectorstore"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// A Kong vectordb section (seed 002) decodes into Options; the dimensions and the metric
// sit one level up, beside the redis block.
func ExampleOptions_kongJSON() {
	config := []byte(`{
		"strategy": "redis", "distance_metric": "cosine", "threshold": 0.7, "dimensions": 1024,
		"redis": {"host": "localhost", "port": 6379, "ssl": true, "server_name": "redis.internal",
		          "sentinel_nodes": [{"host": "s1", "port": 26379}], "sentinel_master": "mymaster"}
	}`)
	var vectordb struct {
		DistanceMetric vectorstore.Metric `json:"distance_metric"`
		Dimensions     int                `json:"dimensions"`
		Redis          redisstore.Options `json:"redis"`
	}
	if err := json.Unmarshal(config, &vectordb); err != nil {
		panic(err)
	}
	opts := vectordb.Redis
	opts.Dimensions, opts.Metric = vectordb.Dimensions, vectordb.DistanceMetric
	// store, err := redisstore.New(ctx, opts); defer store.Close()
	fmt.Println(opts.Host, opts.Port, opts.SSL, opts.ServerName, opts.SentinelMaster, opts.SentinelNodes[0].Host)
	fmt.Println(opts.Dimensions, opts.Metric)
	// Output:
	// localhost 6379 true redis.internal mymaster s1
	// 1024 cosine
}

func ExampleOptions_kongYAML() {
	config := []byte(`
redis:
  host: redis.example.com
  port: 6380
  database: 2
  username: aiproxy
  read_timeout: 500
  cluster_nodes:
    - ip: 10.0.0.1
      port: 7000
  cluster_max_redirections: 3
`)
	var vectordb struct {
		Redis redisstore.Options `yaml:"redis"`
	}
	if err := yaml.Unmarshal(config, &vectordb); err != nil {
		panic(err)
	}
	o := vectordb.Redis
	fmt.Println(o.Host, o.Port, o.Database, o.Username, o.ReadTimeout, o.ClusterNodes[0].IP, o.ClusterMaxRedirections)
	// Output: redis.example.com 6380 2 [redacted] 500 10.0.0.1 3
}
