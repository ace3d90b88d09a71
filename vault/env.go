package vault

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/secret"
)

// ConfigFromEnv reads Kong's environment variables for the HashiCorp Vault backend,
// KONG_VAULT_HCV_<FIELD> (KONG_VAULT_HCV_HOST, KONG_VAULT_HCV_APPROLE_ROLE_ID, ...), into a
// Config. Variables that are not set leave their field zero. lookup nil means os.LookupEnv.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var c Config
	v := reflect.ValueOf(&c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		env := "KONG_VAULT_HCV_" + strings.ToUpper(name)
		s, ok := lookup(env)
		if !ok {
			continue
		}
		f := v.Field(i)
		bad := func() (Config, error) {
			return Config{}, fmt.Errorf("vault: %s has an invalid value", env) // never echo it: it may be a credential
		}
		switch p := f.Addr().Interface().(type) {
		case *string:
			*p = s
		case *secret.Secret:
			*p = secret.Secret(s)
		case *int:
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return bad()
			}
			*p = n
		case *bool:
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return bad()
			}
			*p = b
		case *Seconds:
			if err := p.UnmarshalJSON([]byte(strconv.Quote(s))); err != nil {
				return bad()
			}
		case **Seconds:
			var sec Seconds
			if err := sec.UnmarshalJSON([]byte(strconv.Quote(s))); err != nil {
				return bad()
			}
			*p = &sec
		default:
			return Config{}, fmt.Errorf("vault: %s: field type %s is not handled", env, f.Type())
		}
	}
	return c, nil
}
