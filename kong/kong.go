// Package kong loads Kong Gateway configuration into aiproxy: the ai-proxy-advanced plugins
// of a decK file, an Admin API or Konnect request body, a Kubernetes KongPlugin or
// KongClusterPlugin manifest, the example blocks and example files of Kong's documentation,
// or a bare plugin config object, in YAML or JSON.
//
// Package kong is where Kong's strings become values: the root package links no database
// client, embedded model or AWS STS client, so Parse sets in each aiproxy.Config the values
// that Kong names by string: VectorDB.Store from vectordb.strategy with its redis or pgvector
// block, Embedder to the offline embedder (package embed/offline) for a semantic balancer
// without an embeddings block (or with model.provider "offline"), and AssumeRole
// (package credential/awsrole); Fleet from aiproxy's "fleet" extension block (package
// fleet/redisfleet). Load also builds the secret resolvers of the file's decK
// vault entities (HashiCorp Vault, env). A program that loads Kong files links all of these.
package kong

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/credential/awsrole"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/fleet/redisfleet"
	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
	pgvectorstore "github.com/aiproxy/aiproxy/vectorstore/pgvector"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// PluginName is the Kong plugin whose configuration aiproxy reads.
const PluginName = "ai-proxy-advanced"

// File is what Parse found.
type File struct {
	// Plugins are the ai-proxy-advanced plugins, in document order.
	Plugins []Plugin
	// Vaults are decK vault entities (prefix, kind and config), for Load.
	Vaults []Vault

	built []map[string]secret.Resolver // by Load, for Close
	// services and routes are those of every decK state read, which plugins may be scoped to.
	services [][]string
	routes   []route
	// others are the plugins and manifests found that are not ai-proxy-advanced, for the
	// error of a file without one.
	others []string
}

// Plugin is one ai-proxy-advanced plugin.
type Plugin struct {
	// Name is the plugin's instance_name, or PluginName.
	Name string
	// Path locates the plugin in the document, e.g. "plugins[0]" or
	// "services[1].routes[0].plugins[0]".
	Path string
	// Scope is where Kong would apply the plugin; the zero Scope is global.
	Scope Scope
	// Enabled is false when the plugin is disabled in the file.
	Enabled bool
	// Paths are the paths of the decK routes the plugin applies to: its route's, or those of
	// its service's routes, in any of the files read. Empty for a plugin of no route or
	// service, and for one whose route or service has none (see Unrouted).
	Paths []string
	// Unrouted, for a plugin scoped to a route or service (and no consumer) whose Paths are
	// empty, says why: `route "chat" is not in the configuration`, `route "chat" has no paths`,
	// `service "llm" is not in the configuration` or `service "llm" has no routes with paths`.
	// Kong would apply such a plugin to that route's or service's traffic only, which a
	// program cannot tell by path, so it should not serve it as if it were global. Empty
	// otherwise.
	Unrouted string
	// Config is the plugin's configuration.
	Config aiproxy.Config
}

// Scope names the Kong entities a plugin is attached to: names or IDs, as the file gives them.
type Scope struct {
	Service, Route, Consumer, ConsumerGroup string
}

// Global reports whether the plugin applies to every request.
func (s Scope) Global() bool { return s == Scope{} }

// Vault is a decK vault entity: {vault://<Prefix>/...} references resolve through it.
type Vault struct {
	// Name is the vault's kind: "hcv" (HashiCorp Vault), "env", "aws", "gcp", "azure", "conjur".
	Name   string
	Prefix string
	Config map[string]any
	Path   string
}

// Options configure Parse.
type Options struct {
	// LookupEnv reads the environment variables that decK templates (${{ env "DECK_X" }})
	// and documentation variables ($DECK_X) name. Nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// ParseFile reads and parses a file; see Parse.
func ParseFile(path string, opts Options) (*File, error) {
	return ParseFiles([]string{path}, opts)
}

// ParseFiles reads and parses several files as one configuration, as decK merges the state
// files it is given: their entities are concatenated, so a plugin in one file may be scoped
// to a route or service of another, and the vaults of every file resolve the references of
// every plugin. With more than one file, each Plugin's and Vault's Path, and each error,
// starts with the file's name ("vaults.yaml: vaults[0]"). See Parse.
func ParseFiles(paths []string, opts Options) (*File, error) {
	srcs := make([]source, len(paths))
	for i, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		srcs[i] = source{name: path, data: data}
	}
	f, err := parseSources(srcs, opts)
	if err != nil && len(paths) == 1 {
		return nil, fmt.Errorf("%s: %w", paths[0], err)
	}
	return f, err
}

// Parse reads Kong configuration. Entities other than plugins, vaults, services and routes,
// and plugins other than ai-proxy-advanced, are ignored, but a configuration without any
// ai-proxy-advanced plugin is an error that names what it holds instead. Unknown or misspelt
// fields, values of the wrong type, missing variables and values out of the ranges of Kong's
// schema are errors that name their path (the ranges that aiproxy.New does not check the same
// way, such as a weight or timeout of 0, which a Go Config reads as the default). Every such
// problem is reported, joined (errors.Join), not only the first.
func Parse(data []byte, opts Options) (*File, error) {
	return parseSources([]source{{data: data}}, opts)
}

// source is one file's content, named for error messages when there are several.
type source struct {
	name string
	data []byte
}

// parseSources reads the sources as one configuration.
func parseSources(srcs []source, opts Options) (*File, error) {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	f := &File{}
	var errs []error
	for _, src := range srcs {
		prefix := ""
		if len(srcs) > 1 {
			prefix = src.name + ": "
		}
		firstPlugin, firstVault := len(f.Plugins), len(f.Vaults)
		docs, err := readSource(src.data, lookup)
		if err != nil {
			errs = append(errs, prefixed(prefix, err)...)
			continue
		}
		for i, doc := range docs {
			docPrefix := prefix
			if len(docs) > 1 {
				docPrefix += "document " + strconv.Itoa(i+1) + ": "
			}
			errs = append(errs, prefixed(docPrefix, f.read(doc, lookup))...)
		}
		for i := firstPlugin; i < len(f.Plugins); i++ {
			f.Plugins[i].Path = prefix + f.Plugins[i].Path
		}
		for i := firstVault; i < len(f.Vaults); i++ {
			f.Vaults[i].Path = prefix + f.Vaults[i].Path
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(f.Plugins) == 0 {
		if len(f.others) == 0 {
			return nil, errors.New("no ai-proxy-advanced plugin found: the configuration has no plugins")
		}
		return nil, errors.New("no ai-proxy-advanced plugin found, only: " + strings.Join(f.others, ", "))
	}
	f.resolveScopes()
	return f, nil
}

// readSource expands decK's environment templates in data and splits it into YAML documents.
func readSource(data []byte, lookup func(string) (string, bool)) ([]map[string]any, error) {
	data, err := expandDeckEnv(data, lookup)
	if err != nil {
		return nil, err
	}
	return yamlDocuments(data)
}

// prefixed returns the errors joined in err, each with prefix before its message.
func prefixed(prefix string, err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, prefixed(prefix, e)...)
		}
		return out
	}
	if prefix == "" {
		return []error{err}
	}
	return []error{fmt.Errorf("%s%w", prefix, err)}
}

// deckEnv matches decK's environment templates: ${{ env "DECK_NAME" }}.
var deckEnv = regexp.MustCompile(`\$\{\{\s*env\s+"([^"]*)"\s*\}\}`)

// expandDeckEnv replaces decK's environment templates, as decK does, before YAML parsing.
// Each variable that is not set is an error.
func expandDeckEnv(data []byte, lookup func(string) (string, bool)) ([]byte, error) {
	var errs []error
	seen := map[string]bool{}
	out := deckEnv.ReplaceAllFunc(data, func(m []byte) []byte {
		name := string(deckEnv.FindSubmatch(m)[1])
		v, ok := lookup(name)
		if !ok && !seen[name] {
			seen[name] = true
			errs = append(errs, fmt.Errorf("environment variable %s is not set (used by ${{ env %q }})", name, name))
		}
		return []byte(v)
	})
	return out, errors.Join(errs...)
}

func yamlDocuments(data []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not valid YAML or JSON: %w", err)
		}
		if v == nil {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("the configuration must be an object")
		}
		docs = append(docs, m)
	}
	if len(docs) == 0 {
		return nil, errors.New("the configuration is empty")
	}
	return docs, nil
}

// read finds the plugins of one document, whatever its format.
func (f *File) read(doc map[string]any, lookup func(string) (string, bool)) error {
	switch {
	case doc["entities"] != nil: // the documentation's entity_examples block
		vars, err := variables(doc["variables"], lookup)
		if err != nil {
			return err
		}
		subst, err := substitute(doc["entities"], vars, "entities")
		if err != nil {
			return err
		}
		ents, ok := subst.(map[string]any)
		if !ok {
			return errors.New("entities: expected an object")
		}
		return f.readDeck(ents, "entities")
	case isDeck(doc):
		return f.readDeck(doc, "")
	case doc["apiVersion"] != nil && doc["kind"] != nil: // Kubernetes KongPlugin / KongClusterPlugin
		kind, _ := doc["kind"].(string)
		if kind != "KongPlugin" && kind != "KongClusterPlugin" {
			f.others = append(f.others, fmt.Sprintf("a Kubernetes %v", doc["kind"]))
			return nil
		}
		if doc["plugin"] != PluginName {
			f.others = append(f.others, fmt.Sprintf("a %s of plugin %v", kind, doc["plugin"]))
			return nil
		}
		name := PluginName
		if md, ok := doc["metadata"].(map[string]any); ok {
			if n, ok := md["name"].(string); ok {
				name = n
			}
		}
		p := Plugin{Name: name, Path: "config", Enabled: doc["disabled"] != true}
		if err := decodeConfig("config", doc["config"], &p.Config); err != nil {
			return err
		}
		f.Plugins = append(f.Plugins, p)
		return nil
	case doc["config"] != nil && doc["name"] != nil: // an Admin API or Konnect request body
		return f.readPlugin(doc, "", Scope{})
	case doc["config"] != nil: // a documentation example: title, description, config, variables
		return f.readExample(doc, lookup)
	case doc["targets"] != nil: // a bare config object
		p := Plugin{Name: PluginName, Enabled: true}
		if err := decodeConfig("", doc, &p.Config); err != nil {
			return err
		}
		f.Plugins = append(f.Plugins, p)
		return nil
	}
	return errors.New("no ai-proxy-advanced configuration found: expected a decK file, an Admin API body, a KongPlugin manifest, a documentation example (config and variables) or a config object with targets")
}

// readExample reads an example file of Kong's plugin documentation: the plugin's config
// beside title, description and the other keys of the documentation site (which are
// ignored), with ${name} placeholders that its variables block resolves ({value: $ENV_VAR}
// reads the environment, any other value is literal).
func (f *File) readExample(doc map[string]any, lookup func(string) (string, bool)) error {
	vars, err := variables(doc["variables"], lookup)
	if err != nil {
		return err
	}
	cfg, err := substitute(doc["config"], vars, "config")
	if err != nil {
		return err
	}
	p := Plugin{Name: PluginName, Path: "config", Enabled: true}
	if err := decodeConfig("config", cfg, &p.Config); err != nil {
		return err
	}
	f.Plugins = append(f.Plugins, p)
	return nil
}

func isDeck(doc map[string]any) bool {
	for _, k := range []string{"_format_version", "plugins", "services", "routes", "consumers", "consumer_groups", "vaults"} {
		if doc[k] != nil {
			return true
		}
	}
	return false
}

// readDeck walks a decK state: top-level plugins and vaults, plugins nested in services,
// routes, consumers and consumer groups, and the services and routes plugins may be scoped to.
func (f *File) readDeck(doc map[string]any, path string) error {
	f.services = append(f.services, deckServices(doc)...)
	f.routes = append(f.routes, deckRoutes(doc)...)
	return f.readScoped(doc, path)
}

// readScoped reads the plugins and vaults of a decK state, with their scopes.
func (f *File) readScoped(doc map[string]any, path string) error {
	errs := []error{f.readPlugins(doc["plugins"], join(path, "plugins"), Scope{}), f.readVaults(doc["vaults"], join(path, "vaults"))}
	each := func(key string, fn func(e map[string]any, p string) error) {
		list, _ := doc[key].([]any)
		for i, e := range list {
			if m, ok := e.(map[string]any); ok {
				errs = append(errs, fn(m, fmt.Sprintf("%s[%d]", join(path, key), i)))
			}
		}
	}
	routes := func(svc string) func(e map[string]any, p string) error {
		return func(r map[string]any, p string) error {
			s := Scope{Service: svc, Route: entityName(r)}
			if s.Service == "" {
				s.Service = ref(r["service"])
			}
			return f.readPlugins(r["plugins"], p+".plugins", s)
		}
	}
	each("services", func(s map[string]any, p string) error {
		errs := []error{f.readPlugins(s["plugins"], p+".plugins", Scope{Service: entityName(s)})}
		list, _ := s["routes"].([]any)
		for i, r := range list {
			if m, ok := r.(map[string]any); ok {
				errs = append(errs, routes(entityName(s))(m, fmt.Sprintf("%s.routes[%d]", p, i)))
			}
		}
		return errors.Join(errs...)
	})
	each("routes", routes(""))
	each("consumers", func(c map[string]any, p string) error {
		return f.readPlugins(c["plugins"], p+".plugins", Scope{Consumer: entityName(c)})
	})
	each("consumer_groups", func(g map[string]any, p string) error {
		return f.readPlugins(g["plugins"], p+".plugins", Scope{ConsumerGroup: entityName(g)})
	})
	return errors.Join(errs...)
}

func (f *File) readPlugins(v any, path string, scope Scope) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%s: expected an array", path)
	}
	var errs []error
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("%s[%d]: expected an object", path, i))
			continue
		}
		errs = append(errs, f.readPlugin(m, fmt.Sprintf("%s[%d]", path, i), scope))
	}
	return errors.Join(errs...)
}

// pluginFields are the fields of a Kong plugin entity besides config.
var pluginFields = map[string]bool{
	"name": true, "config": true, "enabled": true, "protocols": true, "tags": true, "instance_name": true,
	"ordering": true, "id": true, "service": true, "route": true, "consumer": true, "consumer_group": true,
	"created_at": true, "updated_at": true, "partials": true,
}

func (f *File) readPlugin(m map[string]any, path string, scope Scope) error {
	if m["name"] != PluginName {
		where := "an Admin API body"
		if path != "" {
			where = path
		}
		f.others = append(f.others, fmt.Sprintf("plugin %v (%s)", m["name"], where))
		return nil
	}
	var errs []error
	for _, k := range sortedKeys(m) {
		if !pluginFields[k] {
			errs = append(errs, fmt.Errorf("%s: unknown field", join(path, k)))
		}
	}
	p := Plugin{Name: PluginName, Path: path, Scope: scope, Enabled: m["enabled"] != false}
	if n, ok := m["instance_name"].(string); ok && n != "" {
		p.Name = n
	}
	for field, dst := range map[string]*string{"service": &p.Scope.Service, "route": &p.Scope.Route, "consumer": &p.Scope.Consumer, "consumer_group": &p.Scope.ConsumerGroup} {
		if r := ref(m[field]); r != "" {
			*dst = r
		}
	}
	errs = append(errs, decodeConfig(join(path, "config"), m["config"], &p.Config))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	f.Plugins = append(f.Plugins, p)
	return nil
}

func (f *File) readVaults(v any, path string) error {
	list, _ := v.([]any)
	var errs []error
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("%s[%d]: expected an object", path, i))
			continue
		}
		vault := Vault{Path: fmt.Sprintf("%s[%d]", path, i)}
		vault.Name, _ = m["name"].(string)
		vault.Prefix, _ = m["prefix"].(string)
		vault.Config, _ = m["config"].(map[string]any)
		if vault.Prefix == "" {
			errs = append(errs, fmt.Errorf("%s.prefix: required", vault.Path))
			continue
		}
		f.Vaults = append(f.Vaults, vault)
	}
	return errors.Join(errs...)
}

// entityName is an entity's name (a consumer's username), or its id.
func entityName(m map[string]any) string {
	for _, k := range []string{"name", "username", "custom_id", "id"} {
		if n, ok := m[k].(string); ok && n != "" {
			return n
		}
	}
	return ""
}

// ref reads a reference to an entity: a name or id string, or {"name": ...} / {"id": ...}.
func ref(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		return entityName(x)
	}
	return ""
}

// decodeConfig decodes a plugin's config object into cfg, checks the fields Kong's schema
// requires, and maps Kong's "0 means none" values onto aiproxy's conventions. Every problem
// found is reported, joined.
func decodeConfig(path string, v any, cfg *aiproxy.Config) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: expected an object", cmp.Or(path, "config"))
	}
	store, err := vectorStore(join(path, "vectordb"), m)
	fleet, ferr := fleetConfig(join(path, "fleet"), m)
	errs := []error{err, ferr, decode(path, m, reflect.ValueOf(cfg).Elem()), required(path, m), inRange(path, m)}
	if cfg.VectorDB != nil {
		cfg.VectorDB.Store = store
	}
	cfg.Fleet = fleet
	if cfg.Balancer.Algorithm == aiproxy.Semantic && (cfg.Embeddings == nil || cfg.Embeddings.Model.Provider == "offline") {
		cfg.Embedder = offline.New()
	}
	cfg.AssumeRole = awsrole.Assume
	if b, ok := m["balancer"].(map[string]any); ok && isZero(b["retries"]) {
		cfg.Balancer.Retries = -1 // Kong's retries: 0 is no retries
	}
	if isZero(m["max_request_body_size"]) {
		cfg.MaxRequestBodySize = -1 // Kong's 0 is unlimited
	}
	return errors.Join(errs...)
}

// vectorStore takes the vectordb.redis and vectordb.pgvector blocks out of the plugin config m
// (aiproxy.VectorDBConfig has no fields for them, since they belong to the adapters) and
// returns the Opener of the store vectordb.strategy names, with its settings: nil for memory.
func vectorStore(path string, m map[string]any) (vectorstore.Opener, error) {
	db, ok := m["vectordb"].(map[string]any)
	if !ok {
		return nil, nil
	}
	rest := make(map[string]any, len(db))
	for k, v := range db {
		if k != "redis" && k != "pgvector" {
			rest[k] = v
		}
	}
	m["vectordb"] = rest
	// Both blocks are checked, as in Kong's schema; the strategy picks the one used.
	redis, pg := &redisstore.Options{}, &pgvectorstore.Options{}
	var errs []error
	for _, b := range []struct {
		key    string
		opts   any
		dims   *int
		metric *vectorstore.Metric
	}{{"redis", redis, &redis.Dimensions, &redis.Metric}, {"pgvector", pg, &pg.Dimensions, &pg.Metric}} {
		errs = append(errs, decode(join(path, b.key), db[b.key], reflect.ValueOf(b.opts).Elem()))
		if *b.dims != 0 || *b.metric != "" {
			errs = append(errs, fmt.Errorf("%s.%s: leave dimensions and distance_metric unset; vectordb's own apply", path, b.key))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	assumeRole(redis)
	switch db["strategy"] {
	case "redis":
		return redis, nil
	case "pgvector":
		return pg, nil
	}
	return nil, nil
}

// fleetConfig takes aiproxy's extension block "fleet" (not Kong's: Kong keeps balancer
// state per worker) out of the plugin config m and returns the shared state it names, nil
// without it:
//
//	fleet:
//	  prefix: chat-gateway   # fleets with other prefixes share the Redis, not the state
//	  interval: 100          # ms; also timeout and lease, as aiproxy.FleetConfig
//	  redis: {host: redis.internal, port: 6379}   # Kong's redis block, as vectordb.redis
//
// The Redis credentials must be plain values here (no {vault://...}).
func fleetConfig(path string, m map[string]any) (*aiproxy.FleetConfig, error) {
	v, ok := m["fleet"]
	if !ok || v == nil {
		return nil, nil
	}
	delete(m, "fleet")
	var block struct {
		Prefix   string             `json:"prefix"`
		Interval time.Duration      `json:"interval"`
		Timeout  time.Duration      `json:"timeout"`
		Lease    time.Duration      `json:"lease"`
		Redis    redisstore.Options `json:"redis"`
	}
	if err := decode(path, v, reflect.ValueOf(&block).Elem()); err != nil {
		return nil, err
	}
	assumeRole(&block.Redis)
	store, err := redisfleet.New(redisfleet.Options{Redis: block.Redis, Prefix: block.Prefix})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &aiproxy.FleetConfig{Store: store, Interval: block.Interval, Timeout: block.Timeout, Lease: block.Lease}, nil
}

// assumeRole lets o assume the AWS role its cloud_authentication names.
func assumeRole(o *redisstore.Options) {
	if c := o.CloudAuthentication; c != nil && c.AWSAssumeRoleARN != "" {
		o.AssumeRole = awsrole.Assume
	}
}

func isZero(v any) bool {
	n, ok := number(v)
	return ok && n == 0
}

// required checks the fields Kong's schema requires; each missing one is an error.
func required(path string, m map[string]any) error {
	var errs []error
	missing := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format+": required", args...)) }
	targets, _ := m["targets"].([]any)
	if len(targets) == 0 {
		errs = append(errs, fmt.Errorf("%s: required, with at least one target", join(path, "targets")))
	}
	for i, t := range targets {
		tm, _ := t.(map[string]any)
		p := fmt.Sprintf("%s[%d]", join(path, "targets"), i)
		if tm["route_type"] == nil {
			missing("%s.route_type", p)
		}
		model, _ := tm["model"].(map[string]any)
		if model == nil || model["provider"] == nil {
			missing("%s.model.provider", p)
		}
	}
	if e, ok := m["embeddings"].(map[string]any); ok {
		model, _ := e["model"].(map[string]any)
		for _, k := range []string{"name", "provider"} {
			if model == nil || model[k] == nil {
				missing("%s.model.%s", join(path, "embeddings"), k)
			}
		}
	}
	if db, ok := m["vectordb"].(map[string]any); ok {
		for _, k := range []string{"dimensions", "distance_metric", "strategy"} {
			if db[k] == nil {
				missing("%s.%s", join(path, "vectordb"), k)
			}
		}
	}
	return errors.Join(errs...)
}

// maxTimeout is the largest timeout Kong's schema accepts, in milliseconds (2^31 − 2).
const maxTimeout = 1<<31 - 2

// inRange checks the ranges of Kong's schema for the values that aiproxy.Config would read
// differently out of range (there, zero means a default and negative means none), so a
// Kong file with weight: 0 or read_timeout: 0 is an error, as Kong's schema makes it.
func inRange(path string, m map[string]any) error {
	check := func(p string, v any, lo, hi float64) error {
		if n, ok := number(v); ok && (n < lo || n > hi) {
			return fmt.Errorf("%s: %s is out of Kong's range %.0f..%.0f", p, strconv.FormatFloat(n, 'f', -1, 64), lo, hi)
		}
		return nil
	}
	var errs []error
	targets, _ := m["targets"].([]any)
	for i, t := range targets {
		tm, _ := t.(map[string]any)
		errs = append(errs, check(fmt.Sprintf("%s[%d].weight", join(path, "targets"), i), tm["weight"], 1, 65535))
	}
	errs = append(errs, check(join(path, "max_request_body_size"), m["max_request_body_size"], 0, math.MaxInt64))
	b, _ := m["balancer"].(map[string]any)
	bp := join(path, "balancer")
	for _, c := range []struct {
		key    string
		lo, hi float64
	}{
		{"connect_timeout", 1, maxTimeout}, {"read_timeout", 1, maxTimeout}, {"retries", 0, 32767},
		{"slots", 10, 65536}, {"write_timeout", 1, maxTimeout},
	} {
		errs = append(errs, check(join(bp, c.key), b[c.key], c.lo, c.hi))
	}
	return errors.Join(errs...)
}

// variables resolves the documentation's variables block: {name: {value: "$ENV" or literal}}.
func variables(v any, lookup func(string) (string, bool)) (map[string]string, error) {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for _, name := range sortedKeys(m) {
		spec, _ := m[name].(map[string]any)
		val, ok := spec["value"].(string)
		if !ok {
			return nil, fmt.Errorf("variables.%s.value: expected a string", name)
		}
		if env, isEnv := strings.CutPrefix(val, "$"); isEnv {
			ev, ok := lookup(env)
			if !ok {
				return nil, fmt.Errorf("environment variable %s is not set (variables.%s)", env, name)
			}
			val = ev
		}
		out[name] = val
	}
	return out, nil
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// substitute replaces ${name} placeholders in every string of v, which is at path; a
// placeholder without a variable is an error naming it and its path.
func substitute(v any, vars map[string]string, path string) (any, error) {
	switch x := v.(type) {
	case string:
		var missing string
		out := placeholder.ReplaceAllStringFunc(x, func(m string) string {
			name := m[2 : len(m)-1]
			val, ok := vars[name]
			if !ok && missing == "" {
				missing = name
			}
			return val
		})
		if missing != "" {
			return nil, fmt.Errorf("%s: ${%s} has no entry in variables", path, missing)
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			e, err := substitute(x[k], vars, join(path, k))
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = substitute(e, vars, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}
