package aiproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
)

// ACLs are Kong 3.14's acls block: rules that allow or deny requests by who sends them
// (consumer, consumer group, client IP, a header) and what they ask for (model, provider,
// path). A rule applies when all its conditions match. A request that a deny rule applies to
// is refused; when there are allow rules, a request that none applies to is refused too.
// A refusal is a 403 permission_error that names the rule (acls.deny[1]), never a value of
// the request.
type ACLs struct {
	// Allow rules: when any is set, a request must match one of them. Nil means every
	// request that no deny rule refuses is allowed.
	Allow []ACLRule `json:"allow,omitempty"`
	// Deny rules refuse the requests they match, whatever the allow rules say. Nil means none.
	Deny []ACLRule `json:"deny,omitempty"`
}

// ACLRule is one allow or deny rule: its conditions, all of which must match (logical AND).
type ACLRule struct {
	// Match holds the conditions; at least one is required.
	Match []ACLCondition `json:"match"`
}

// ACLCondition tests one attribute of a request against Values: it matches when the
// attribute equals one of them (exactly, case-sensitively, except header names).
type ACLCondition struct {
	// Type is the attribute: "consumer" and "consumer_group" (from the request's context,
	// see WithConsumer; a request without one matches neither), "header" (the request header
	// Key names), "ip" (the client's address, http.Request.RemoteAddr; Values are addresses
	// or CIDR prefixes such as 10.0.0.0/8), "model" (the model the client asked for, or the
	// name of the model a target would serve it with), "path" (the request's URL path) or
	// "provider" (a target's model.provider).
	Type string `json:"type"`
	// Key narrows the attribute: for "consumer", "id" or "username"; for "consumer_group",
	// "id" or "name" (empty: either); for "header", the header's name (required).
	Key string `json:"key,omitempty"`
	// Values are the values that match; at least one is required.
	Values []string `json:"values"`
}

// Consumer is the caller a host program's authentication identified (Kong's consumer), for
// the consumer conditions of ACLs. See WithConsumer.
type Consumer struct {
	ID, Username string
}

// ConsumerGroup is a group the consumer belongs to (Kong's consumer group).
type ConsumerGroup struct {
	ID, Name string
}

type consumerKey struct{}

type consumerValue struct {
	consumer Consumer
	groups   []ConsumerGroup
}

// WithConsumer returns a context that carries the request's consumer and its groups, which
// the consumer and consumer_group conditions of Config.ACLs test. A host program's own
// authentication middleware sets it on the request before the Proxy serves it:
//
//	next.ServeHTTP(w, r.WithContext(aiproxy.WithConsumer(r.Context(),
//		aiproxy.Consumer{Username: user}, aiproxy.ConsumerGroup{Name: plan})))
//
// A Hook's Start may set it too. A request without one matches no consumer condition.
func WithConsumer(ctx context.Context, c Consumer, groups ...ConsumerGroup) context.Context {
	return context.WithValue(ctx, consumerKey{}, &consumerValue{consumer: c, groups: slices.Clone(groups)})
}

// ConsumerFrom returns the consumer and groups WithConsumer put in ctx; ok is false if none.
func ConsumerFrom(ctx context.Context) (c Consumer, groups []ConsumerGroup, ok bool) {
	v, _ := ctx.Value(consumerKey{}).(*consumerValue)
	if v == nil {
		return Consumer{}, nil, false
	}
	return v.consumer, slices.Clone(v.groups), true
}

// ErrDenied is wrapped when Config.ACLs refuse a request (403).
var ErrDenied = errors.New("aiproxy: denied by acls")

// acl is Config.ACLs checked and compiled.
type acl struct {
	allow, deny []aclRule
	// perTarget: some rule tests the provider or model, which depend on the target.
	perTarget bool
}

type aclRule struct {
	name  string // "acls.deny[1]"
	conds []aclCond
}

type aclCond struct {
	typ    string
	key    string
	values []string
	nets   []netip.Prefix // for ip
}

// newACL checks the acls block.
func newACL(a *ACLs) (*acl, []error) {
	if a == nil || len(a.Allow) == 0 && len(a.Deny) == 0 {
		return nil, nil
	}
	out := &acl{}
	var errs []error
	compile := func(list string, rules []ACLRule) []aclRule {
		var rs []aclRule
		for i, r := range rules {
			path := "acls." + list + "[" + strconv.Itoa(i) + "]"
			rule := aclRule{name: path}
			if len(r.Match) == 0 {
				errs = append(errs, fmt.Errorf("%s.match: at least one condition is required", path))
			}
			for j, m := range r.Match {
				cp := path + ".match[" + strconv.Itoa(j) + "]"
				c := aclCond{typ: m.Type, key: m.Key, values: m.Values}
				if len(m.Values) == 0 {
					errs = append(errs, fmt.Errorf("%s.values: at least one value is required", cp))
				}
				switch m.Type {
				case "consumer":
					if m.Key != "" && m.Key != "id" && m.Key != "username" {
						errs = append(errs, fmt.Errorf("%s.key %q must be id or username", cp, m.Key))
					}
				case "consumer_group":
					if m.Key != "" && m.Key != "id" && m.Key != "name" {
						errs = append(errs, fmt.Errorf("%s.key %q must be id or name", cp, m.Key))
					}
				case "header":
					if m.Key == "" {
						errs = append(errs, fmt.Errorf("%s.key: the header's name is required", cp))
					}
					c.key = http.CanonicalHeaderKey(m.Key)
				case "ip":
					for _, v := range m.Values {
						pfx, err := parsePrefix(v)
						if err != nil {
							errs = append(errs, fmt.Errorf("%s.values: %q is not an IP address or CIDR prefix", cp, v))
							continue
						}
						c.nets = append(c.nets, pfx)
					}
				case "model", "provider":
					out.perTarget = true
				case "path":
				default:
					errs = append(errs, fmt.Errorf("%s.type %q is not one of consumer, consumer_group, header, ip, model, path, provider", cp, m.Type))
				}
				rule.conds = append(rule.conds, c)
			}
			rs = append(rs, rule)
		}
		return rs
	}
	out.allow = compile("allow", a.Allow)
	out.deny = compile("deny", a.Deny)
	return out, errs
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// aclRequest is what the conditions of one request test.
type aclRequest struct {
	r        *http.Request
	consumer *consumerValue
	ip       netip.Addr // invalid when RemoteAddr holds none
	model    string     // the client's
}

func newACLRequest(c *call) *aclRequest {
	q := &aclRequest{r: c.req, model: c.model}
	q.consumer, _ = c.ctx.Value(consumerKey{}).(*consumerValue)
	host := c.req.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if a, err := netip.ParseAddr(host); err == nil {
		q.ip = a.Unmap()
	}
	return q
}

// matches reports whether cond matches the request, served by t (nil: no target yet, so
// target-dependent conditions do not match).
func (cond *aclCond) matches(q *aclRequest, t *target, model string) bool {
	switch cond.typ {
	case "consumer":
		if q.consumer == nil {
			return false
		}
		c := q.consumer.consumer
		return cond.key != "username" && c.ID != "" && slices.Contains(cond.values, c.ID) ||
			cond.key != "id" && c.Username != "" && slices.Contains(cond.values, c.Username)
	case "consumer_group":
		if q.consumer == nil {
			return false
		}
		for _, g := range q.consumer.groups {
			if cond.key != "name" && g.ID != "" && slices.Contains(cond.values, g.ID) ||
				cond.key != "id" && g.Name != "" && slices.Contains(cond.values, g.Name) {
				return true
			}
		}
		return false
	case "header":
		for _, v := range q.r.Header[cond.key] {
			if slices.Contains(cond.values, v) {
				return true
			}
		}
		return false
	case "ip":
		if !q.ip.IsValid() {
			return false
		}
		for _, n := range cond.nets {
			if n.Contains(q.ip) {
				return true
			}
		}
		return false
	case "path":
		return q.r.URL != nil && slices.Contains(cond.values, q.r.URL.Path)
	case "model":
		return q.model != "" && slices.Contains(cond.values, q.model) ||
			model != "" && slices.Contains(cond.values, model)
	case "provider":
		return t != nil && slices.Contains(cond.values, t.cfg.Model.Provider)
	}
	return false
}

func (r *aclRule) matches(q *aclRequest, t *target, model string) bool {
	for i := range r.conds {
		if !r.conds[i].matches(q, t, model) {
			return false
		}
	}
	return true
}

// refusal returns why the rules refuse the request served by t ("" when they allow it).
func (a *acl) refusal(q *aclRequest, t *target, model string) string {
	for i := range a.deny {
		if a.deny[i].matches(q, t, model) {
			return "this request is refused by " + a.deny[i].name
		}
	}
	if len(a.allow) == 0 {
		return ""
	}
	for i := range a.allow {
		if a.allow[i].matches(q, t, model) {
			return ""
		}
	}
	if len(a.allow) == 1 {
		return "this request is not allowed: it does not match acls.allow[0]"
	}
	return "this request is not allowed: it matches none of acls.allow[0.." + strconv.Itoa(len(a.allow)-1) + "]"
}

// admission is what the per-request checks (templates, ACLs) decided for the candidate
// targets of one request.
type admission struct {
	// models are the resolved models of the targets with template variables.
	models map[*target]*provider.Model
	// denied are the targets the ACLs refuse this request, when others remain.
	denied map[*target]bool
}

// admit resolves the template variables of the candidate targets in pl and applies the
// ACLs: a 400 for a missing template value, a 403 when the rules refuse the request on every
// candidate. Candidates refused while others are allowed are skipped.
func (p *Proxy) admit(c *call, pl *pool) *RequestError {
	c.admit = &admission{}
	if rerr := c.resolveTemplates(pl); rerr != nil {
		return rerr
	}
	a := p.acl
	if a == nil {
		return nil
	}
	q := newACLRequest(c)
	if !a.perTarget {
		if why := a.refusal(q, nil, ""); why != "" {
			return denied(why)
		}
		return nil
	}
	first := ""
	allowed := 0
	for _, t := range pl.targets {
		why := a.refusal(q, t, c.modelName(t))
		if why == "" {
			allowed++
			continue
		}
		if first == "" {
			first = why
		}
		if c.admit.denied == nil {
			c.admit.denied = map[*target]bool{}
		}
		c.admit.denied[t] = true
	}
	if allowed == 0 {
		return denied(first)
	}
	return nil
}

func denied(why string) *RequestError {
	return &RequestError{Status: http.StatusForbidden, Type: "permission_error", Code: "acl_denied", Message: why, Err: ErrDenied}
}

// refused reports whether the ACLs refused this request on t.
func (c *call) refused(t *target) bool {
	return c.admit != nil && c.admit.denied[t]
}
