package vault_test

import (
	"encoding/json"
	"fmt"
	"log"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vault"
)

// A decK `vaults:` entry's config decodes into vault.Config; the resolver then serves the
// references whose prefix is the entry's prefix.
func Example() {
	entry := []byte(`{
		"name": "hcv", "prefix": "hashicorp-vault",
		"config": {"protocol": "http", "host": "127.0.0.1", "port": 8200,
		           "mount": "secret", "kv": "v2", "token": "{vault://env/vault-token}", "ttl": 300}
	}`)
	var v struct {
		Prefix string       `json:"prefix"`
		Config vault.Config `json:"config"`
	}
	if err := json.Unmarshal(entry, &v); err != nil {
		log.Fatal(err)
	}
	hcv, err := vault.New(v.Config) // no I/O yet
	if err != nil {
		log.Fatal(err)
	}
	defer hcv.Close()

	ref, _ := secret.ParseRef("{vault://hashicorp-vault/openai/key}")
	fmt.Println(v.Prefix, ref.Resource, ref.Key)
	// At start-up, strict validation reports every reference that does not resolve:
	//	if err := hcv.Validate(ctx, ref); err != nil { ... }
	// Output: hashicorp-vault openai key
}
