package aiproxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

func cond(typ, key string, values ...string) aiproxy.ACLCondition {
	return aiproxy.ACLCondition{Type: typ, Key: key, Values: values}
}

func rule(conds ...aiproxy.ACLCondition) aiproxy.ACLRule { return aiproxy.ACLRule{Match: conds} }

// aclRequest is one request of TestACLs: who sends it and what it asks for.
type aclRequest struct {
	consumer *aiproxy.Consumer
	groups   []aiproxy.ConsumerGroup
	header   []string
	remote   string
	path     string
	model    string
}

func (r aclRequest) send(h http.Handler) *httptest.ResponseRecorder {
	body := `{"messages":[{"role":"user","content":"hi"}]}`
	if r.model != "" {
		body = `{"model":"` + r.model + `","messages":[{"role":"user","content":"hi"}]}`
	}
	req := httptest.NewRequest(http.MethodPost, cmpOr(r.path, "/v1/chat/completions"), strings.NewReader(body))
	req.RemoteAddr = cmpOr(r.remote, "192.0.2.10:40000")
	for i := 0; i+1 < len(r.header); i += 2 {
		req.Header.Set(r.header[i], r.header[i+1])
	}
	if r.consumer != nil { // as the host program's auth middleware would
		req = req.WithContext(aiproxy.WithConsumer(req.Context(), *r.consumer, r.groups...))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Kong 3.14's acls: a rule's conditions are ANDed, deny wins, and with allow rules a request
// must match one. A refusal is a 403 permission_error naming the rule, never the request's
// values.
func TestACLs(t *testing.T) {
	openai := aiproxytest.NewOpenAI()
	defer openai.Close()
	mistral := aiproxytest.NewOpenAI()
	defer mistral.Close()
	targets := []aiproxy.Target{
		{Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: openai.ChatURL()}}},
		{Model: provider.Model{Provider: "mistral", Name: "mistral-large", Options: provider.Options{UpstreamURL: mistral.ChatURL(), MistralFormat: "openai"}}},
	}
	alice := &aiproxy.Consumer{ID: "8d0c6f4e-0000-4000-8000-000000000001", Username: "alice"}
	bob := &aiproxy.Consumer{Username: "bob"}
	gold := aiproxy.ConsumerGroup{ID: "g-1", Name: "gold"}
	for _, tc := range []struct {
		name     string
		acls     aiproxy.ACLs
		req      aclRequest
		want     int
		rule     string // named in the refusal
		provider string // that served, when allowed
	}{
		{"no rules match: allowed", aiproxy.ACLs{Deny: []aiproxy.ACLRule{rule(cond("consumer", "", "mallory"))}}, aclRequest{consumer: alice}, 200, "", ""},
		{"deny by username", aiproxy.ACLs{Deny: []aiproxy.ACLRule{rule(cond("consumer", "", "alice"))}}, aclRequest{consumer: alice}, 403, "acls.deny[0]", ""},
		{"deny by id, key id", aiproxy.ACLs{Deny: []aiproxy.ACLRule{rule(cond("consumer", "id", alice.ID))}}, aclRequest{consumer: alice}, 403, "acls.deny[0]", ""},
		{"key username does not test the id", aiproxy.ACLs{Deny: []aiproxy.ACLRule{rule(cond("consumer", "username", alice.ID))}}, aclRequest{consumer: alice}, 200, "", ""},
		{"allow needs a consumer", aiproxy.ACLs{Allow: []aiproxy.ACLRule{rule(cond("consumer", "", "alice"))}}, aclRequest{}, 403, "acls.allow[0]", ""},
		{"allow by group", aiproxy.ACLs{Allow: []aiproxy.ACLRule{rule(cond("consumer_group", "name", "gold"))}}, aclRequest{consumer: bob, groups: []aiproxy.ConsumerGroup{gold}}, 200, "", ""},
		{"group key id", aiproxy.ACLs{Allow: []aiproxy.ACLRule{rule(cond("consumer_group", "id", "gold"))}}, aclRequest{consumer: bob, groups: []aiproxy.ConsumerGroup{gold}}, 403, "acls.allow[0]", ""},
		{"deny wins over allow", aiproxy.ACLs{
			Allow: []aiproxy.ACLRule{rule(cond("consumer_group", "", "gold"))},
			Deny:  []aiproxy.ACLRule{rule(cond("header", "X-Env", "test")), rule(cond("consumer", "", "bob"))},
		}, aclRequest{consumer: bob, groups: []aiproxy.ConsumerGroup{gold}}, 403, "acls.deny[1]", ""},
		{"conditions are ANDed", aiproxy.ACLs{Deny: []aiproxy.ACLRule{rule(cond("consumer", "", "bob"), cond("header", "x-env", "prod"))}},
			aclRequest{consumer: bob, header: []string{"X-Env", "test"}}, 200, "", ""},
		{"one of several allow rules", aiproxy.ACLs{Allow: []aiproxy.ACLRule{rule(cond("path", "", "/internal/chat/completions")), rule(cond("ip", "", "192.0.2.0/24"))}},
			aclRequest{}, 200, "", ""},
		{"none of several allow rules", aiproxy.ACLs{Allow: []aiproxy.ACLRule{rule(cond("path", "", "/internal/chat/completions")), rule(cond("ip", "", "10.0.0.0/8", "2001:db8::1"))}},
			aclRequest{}, 403, "acls.allow[0..1]", ""},
		{"ip, IPv6", aiproxy.ACLs{Allow: []aiproxy.ACLRule{rule(cond("ip", "", "2001:db8::/32"))}}, aclRequest{remote: "[2001:db8::7]:5000"}, 200, "", ""},
		{"header value", aiproxy.ACLs{Deny: []aiproxy.ACLRule{rule(cond("header", "X-Api-Key", "sk-leaked-123"))}},
			aclRequest{header: []string{"X-Api-Key", "sk-leaked-123"}}, 403, "acls.deny[0]", ""},
		{"model the client asks for", aiproxy.ACLs{Deny: []aiproxy.ACLRule{rule(cond("model", "", "gpt-4o"))}}, aclRequest{model: "gpt-4o"}, 403, "acls.deny[0]", ""},
		{"provider: the other target serves", aiproxy.ACLs{Deny: []aiproxy.ACLRule{rule(cond("provider", "", "openai"))}}, aclRequest{}, 200, "", "mistral"},
		{"model of a target: the other serves", aiproxy.ACLs{Allow: []aiproxy.ACLRule{rule(cond("model", "", "gpt-4o"))}}, aclRequest{}, 200, "", "openai"},
		{"provider: no target left", aiproxy.ACLs{Deny: []aiproxy.ACLRule{rule(cond("provider", "", "openai", "mistral"))}}, aclRequest{}, 403, "acls.deny[0]", ""},
		{"provider and consumer", aiproxy.ACLs{Allow: []aiproxy.ACLRule{rule(cond("consumer", "", "alice"), cond("provider", "", "mistral"))}},
			aclRequest{consumer: alice}, 200, "", "mistral"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last aiproxy.Stats
			acls := tc.acls
			p, err := aiproxy.New(aiproxy.Config{Targets: targets, ACLs: &acls, Hooks: onStats(func(s aiproxy.Stats) { last = s })})
			require.NoError(t, err)
			defer p.Close()
			for range 4 { // every pick of the round-robin
				rec := tc.req.send(p)
				require.Equal(t, tc.want, rec.Code, rec.Body.String())
				if tc.want == 403 {
					msg, typ, code := openaiErr(t, rec.Body.Bytes())
					assert.Equal(t, "permission_error", typ)
					assert.Equal(t, "acl_denied", code)
					assert.Contains(t, msg, tc.rule)
					assert.NotContains(t, rec.Body.String(), "sk-leaked")
					assert.ErrorIs(t, last.Err, aiproxy.ErrDenied)
					continue
				}
				if tc.provider != "" {
					assert.Equal(t, tc.provider, last.Provider)
				}
			}
		})
	}
}

// The consumer is read from the request's context after the Start hooks, so a hook may set it;
// ConsumerFrom reads it back.
func TestACLConsumerFromHook(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p, err := aiproxy.New(aiproxy.Config{
		Targets: []aiproxy.Target{{Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: up.ChatURL()}}}},
		ACLs:    &aiproxy.ACLs{Allow: []aiproxy.ACLRule{rule(cond("consumer_group", "", "gold"))}},
		Hooks: []aiproxy.Hook{{Start: func(ctx context.Context, r *http.Request) context.Context {
			if r.Header.Get("X-Plan") == "gold" {
				return aiproxy.WithConsumer(ctx, aiproxy.Consumer{Username: "carol"}, aiproxy.ConsumerGroup{Name: "gold"})
			}
			return ctx
		}}},
	})
	require.NoError(t, err)
	defer p.Close()
	assert.Equal(t, 200, aclRequest{header: []string{"X-Plan", "gold"}}.send(p).Code)
	assert.Equal(t, 403, aclRequest{}.send(p).Code)

	ctx := aiproxy.WithConsumer(context.Background(), aiproxy.Consumer{ID: "1", Username: "dave"}, aiproxy.ConsumerGroup{Name: "a"})
	c, groups, ok := aiproxy.ConsumerFrom(ctx)
	assert.True(t, ok)
	assert.Equal(t, "dave", c.Username)
	assert.Equal(t, []aiproxy.ConsumerGroup{{Name: "a"}}, groups)
	_, _, ok = aiproxy.ConsumerFrom(context.Background())
	assert.False(t, ok)
}

// New checks the rules as Kong's schema does, naming each problem's path.
func TestACLConfigErrors(t *testing.T) {
	_, err := aiproxy.New(aiproxy.Config{
		Targets: []aiproxy.Target{{Model: provider.Model{Provider: "openai"}}},
		ACLs: &aiproxy.ACLs{
			Allow: []aiproxy.ACLRule{{}, rule(cond("cookie", "", "x"))},
			Deny:  []aiproxy.ACLRule{rule(cond("header", "", "x"), cond("ip", "", "10.0.0.300"), cond("consumer", "name", "a"), cond("model", ""))},
		},
	})
	require.ErrorIs(t, err, aiproxy.ErrInvalidConfig)
	for _, want := range []string{
		"acls.allow[0].match: at least one condition is required",
		`acls.allow[1].match[0].type "cookie" is not one of consumer, consumer_group, header, ip, model, path, provider`,
		"acls.deny[0].match[0].key: the header's name is required",
		`acls.deny[0].match[1].values: "10.0.0.300" is not an IP address or CIDR prefix`,
		`acls.deny[0].match[2].key "name" must be id or username`,
		"acls.deny[0].match[3].values: at least one value is required",
	} {
		assert.Contains(t, err.Error(), want)
	}
}
