package vault

import (
	"fmt"
	"log/slog"
	"strings"
)

// String describes the resolver by where it reads (address, mount, KV version, auth method),
// never by a credential or a cached value.
func (r *Resolver) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vault.Resolver{address: %s, mount: %s, kv: v%d, auth: %s", r.set.address, r.set.mount, r.set.kv, r.set.authMethod)
	if r.set.namespace != "" {
		b.WriteString(", namespace: " + r.set.namespace)
	}
	b.WriteByte('}')
	return b.String()
}

// GoString implements fmt.GoStringer (%#v) with String.
func (r *Resolver) GoString() string { return r.String() }

// Format implements fmt.Formatter so that every verb prints String: %+v or %d would otherwise
// walk the resolver's fields, its credentials and cache included.
func (r *Resolver) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue implements slog.LogValuer with String.
func (r *Resolver) LogValue() slog.Value { return slog.StringValue(r.String()) }

var (
	_ fmt.Stringer   = (*Resolver)(nil)
	_ fmt.Formatter  = (*Resolver)(nil)
	_ slog.LogValuer = (*Resolver)(nil)
)
