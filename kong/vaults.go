package kong

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vault"
)

// hcvDefaultPrefix is the prefix under which Kong serves its HashiCorp Vault backend configured
// only by kong.conf or KONG_VAULT_HCV_* variables, without a vault entity: {vault://hcv/...}.
const hcvDefaultPrefix = "hcv"

// buildVaults returns a resolver for each vault entity, keyed by prefix, plus "hcv" when
// KONG_VAULT_HCV_* variables configure Kong's default HashiCorp Vault and no entity uses that
// prefix. On error, what was built is closed.
func buildVaults(entities []Vault, opts LoadOptions) (map[string]secret.Resolver, error) {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	envCfg, err := vault.ConfigFromEnv(lookup)
	if err != nil {
		return nil, err
	}
	out := map[string]secret.Resolver{}
	fail := func(err error) (map[string]secret.Resolver, error) {
		_ = closeAll(out)
		return nil, err
	}
	for _, e := range entities {
		if _, dup := out[e.Prefix]; dup {
			return fail(fmt.Errorf("%s.prefix: %q is used by another vault", e.Path, e.Prefix))
		}
		var r secret.Resolver
		switch e.Name {
		case "hcv":
			r, err = hcvResolver(e, envCfg, opts)
		case "env":
			r, err = envResolver(e, lookup)
		default:
			err = fmt.Errorf("%s.name: vault %q is not supported (hcv, env)", e.Path, e.Name)
		}
		if err != nil {
			return fail(err)
		}
		out[e.Prefix] = r
	}
	if _, taken := out[hcvDefaultPrefix]; !taken && !reflect.ValueOf(envCfg).IsZero() {
		r, err := hcvResolver(Vault{Name: "hcv", Prefix: hcvDefaultPrefix, Path: "KONG_VAULT_HCV_*"}, envCfg, opts)
		if err != nil {
			return fail(err)
		}
		out[hcvDefaultPrefix] = r
	}
	return out, nil
}

// hcvResolver builds a HashiCorp Vault resolver: the entity's config over Kong's environment
// configuration (KONG_VAULT_HCV_<FIELD> fills the fields the entity leaves unset, as kong.conf's
// vault_hcv_* settings do in Kong), then opts.ConfigureVault.
func hcvResolver(e Vault, base vault.Config, opts LoadOptions) (*vault.Resolver, error) {
	cfg := base
	set := make(map[string]any, len(e.Config))
	for k, v := range e.Config {
		if v != nil { // decK dumps list unset fields as null: they keep the environment's value
			set[k] = v
		}
	}
	b, err := json.Marshal(set)
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("%s.config: %w", e.Path, err)
	}
	if opts.ConfigureVault != nil {
		opts.ConfigureVault(e.Prefix, &cfg)
	}
	r, err := vault.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Path, err)
	}
	return r, nil
}

// envResolver builds Kong's environment vault with its config.prefix: {vault://<prefix>/openai-key}
// with config.prefix "MY_" reads MY_OPENAI_KEY.
func envResolver(e Vault, lookup func(string) (string, bool)) (secret.Resolver, error) {
	prefix := ""
	for k, v := range e.Config {
		switch {
		case v == nil:
		case k == "prefix":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s.config.prefix: expected a string", e.Path)
			}
			prefix = strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
		case k == "base64_decode" && v == false:
		default:
			return nil, fmt.Errorf("%s.config.%s: not supported by the env vault (prefix)", e.Path, k)
		}
	}
	return prefixedEnv{prefix: prefix, env: secret.EnvResolver{LookupEnv: lookup}}, nil
}

// prefixedEnv is Kong's env vault with a config.prefix: the variable read, and named in
// errors, is the prefix followed by the reference's resource.
type prefixedEnv struct {
	prefix string
	env    secret.EnvResolver
}

// Resolve reads the variable prefix + ref's resource.
func (e prefixedEnv) Resolve(ctx context.Context, ref secret.Ref) (string, error) {
	ref.Resource = e.prefix + ref.Resource
	return e.env.Resolve(ctx, ref)
}

// closeAll closes the resolvers that are io.Closers.
func closeAll(rs map[string]secret.Resolver) error {
	var errs []error
	for _, r := range rs {
		if c, ok := r.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
