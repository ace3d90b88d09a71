package aiproxy

import (
	"context"
	"net/http"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
)

// auth is a target's Auth prepared for requests: literal values are kept as strings, and
// only references are resolved per attempt.
type auth struct {
	cfg    *Auth
	static bool // no references: header and param below are final
	header credential
	param  credential
}

// credential is one name/value pair, resolved.
type credential struct{ name, value string }

func newAuth(a *Auth) (auth, error) {
	au := auth{cfg: a, static: true}
	for _, s := range a.secrets() {
		if !s.IsLiteral() {
			au.static = false
		}
	}
	if au.static {
		au.header = credential{string(a.HeaderName), string(a.HeaderValue)}
		au.param = credential{string(a.ParamName), string(a.ParamValue)}
	}
	return au, nil
}

// resolve returns the header and parameter credentials, resolving references.
func (a *auth) resolve(ctx context.Context, s *secrets) (header, param credential, err error) {
	if a.static {
		return a.header, a.param, nil
	}
	pairs := [4]string{}
	for i, v := range []Secret{a.cfg.HeaderName, a.cfg.HeaderValue, a.cfg.ParamName, a.cfg.ParamValue} {
		if pairs[i], err = s.resolve(ctx, v); err != nil {
			return credential{}, credential{}, err
		}
	}
	return credential{pairs[0], pairs[1]}, credential{pairs[2], pairs[3]}, nil
}

// bodyParam returns the JSON-body edit that Kong's param_location "body" makes, if any.
func (a *auth) bodyParam(param credential) (jsonx.Edit, bool) {
	if param.name == "" || a.cfg.ParamLocation != "body" {
		return jsonx.Edit{}, false
	}
	return jsonx.Edit{Key: param.name, Value: jsonx.AppendString(nil, param.value), OnlyIfAbsent: a.cfg.AllowOverride}, true
}

// apply sets the header and query credentials on an upstream request. With allow_override,
// a value the client sent (copied into req already) wins.
func (a *auth) apply(req *http.Request, header, param credential) {
	if header.name != "" {
		key := http.CanonicalHeaderKey(header.name)
		if !a.cfg.AllowOverride || req.Header.Get(key) == "" {
			req.Header[key] = []string{header.value}
		}
	}
	if param.name != "" && a.cfg.ParamLocation != "body" {
		q := req.URL.Query()
		if !a.cfg.AllowOverride || !q.Has(param.name) {
			q.Set(param.name, param.value)
			req.URL.RawQuery = q.Encode()
		}
	}
}

// credentials returns the resolved cloud credentials a signing provider needs.
func (a *auth) credentials(ctx context.Context, s *secrets) (provider.Credentials, error) {
	id, err := s.resolve(ctx, a.cfg.AWSAccessKeyID)
	if err != nil {
		return provider.Credentials{}, err
	}
	key, err := s.resolve(ctx, a.cfg.AWSSecretAccessKey)
	return provider.Credentials{AWSAccessKeyID: id, AWSSecretAccessKey: key}, err
}
