package aiproxy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
)

// Target is one upstream model: Kong's targets[] entry.
type Target struct {
	// Name identifies the target in statistics, logs and errors. Empty means
	// "<provider>/<model>", with "#<index>" added when two targets would share a name.
	Name string `json:"-"`
	// RouteType is the operation the target serves: "llm/v1/chat" (the zero value),
	// "llm/v1/completions", "llm/v1/embeddings" or "llm/v1/responses". A chat target serves
	// Responses API clients too, through a translation (see the README); a responses target
	// of provider openai or azure gets their requests as they are. On openai and azure
	// targets, also Kong's audio/v1/audio/speech, audio/v1/audio/transcriptions,
	// audio/v1/audio/translations, image/v1/images/generations, image/v1/images/edits,
	// llm/v1/files, llm/v1/batches, llm/v1/assistants, video/v1/videos/generations and
	// preserve (see media.go and the README); the two image route types on gemini and
	// bedrock targets too, translated by their provider (images.go).
	RouteType provider.RouteType `json:"route_type,omitempty"`
	// Model is the upstream model and its options. Model.Provider is required (unless
	// Provider is set); an empty Model.Name passes the client's model through.
	Model provider.Model `json:"model"`
	// Auth holds the credentials the proxy adds to each upstream request. The zero Auth adds
	// none: the client's own credential headers are forwarded instead (Bedrock signs with
	// the AWS_* environment).
	Auth Auth `json:"auth"`
	// Weight is the target's share of traffic (1..65535). Zero means Kong's default, 100.
	Weight int `json:"weight,omitempty"`
	// Description is what the semantic balancer compares prompts with. "CATCHALL" marks
	// the target that serves prompts matching no description within the threshold. Empty
	// means none; other balancers ignore it.
	Description string `json:"description,omitempty"`
	// Examples are further utterances that the semantic balancer compares prompts with
	// (an aiproxy extension); a target's score is its best match. Nil means the
	// description alone.
	Examples []string `json:"examples,omitempty"`
	// Logging is Kong's per-target logging block. The zero value logs nothing.
	Logging Logging `json:"logging"`
	// Metadata is accepted for compatibility with Kong's schema and not used. Nil is none.
	Metadata map[string]any `json:"metadata,omitempty"`

	// Provider, when set, translates for this target instead of the provider that
	// Model.Provider names. Nil means that provider (Config.Providers, then the built-in).
	Provider provider.Provider `json:"-"`
}

// Catchall is the description that marks the semantic balancer's fallback target.
const Catchall = "CATCHALL"

// Auth is Kong's auth block. Every value may be, or contain, a {vault://...} reference.
// The zero Auth sets no credential.
type Auth struct {
	// HeaderName and HeaderValue set one request header, e.g. "Authorization" and
	// "Bearer sk-…". Empty means no header; they are set together or not at all.
	HeaderName  Secret `json:"header_name,omitempty"`
	HeaderValue Secret `json:"header_value,omitempty"`
	// ParamName and ParamValue set a query parameter ("query", the zero value of
	// ParamLocation) or a top-level field of the JSON body ("body"). Empty means no
	// parameter; they are set together or not at all.
	ParamName     Secret `json:"param_name,omitempty"`
	ParamValue    Secret `json:"param_value,omitempty"`
	ParamLocation string `json:"param_location,omitempty"`
	// AllowOverride lets a client's own header or parameter of the same name win over the
	// configured one. The zero value, false, makes the configured credential replace the
	// client's.
	AllowOverride bool `json:"allow_override,omitempty"`

	// AzureUseManagedIdentity sends Microsoft Entra ID tokens ("Authorization: Bearer …",
	// audience Azure AI services): with AzureClientID, AzureClientSecret and AzureTenantID,
	// from the client-credentials flow; otherwise from the host's managed identity (IMDS, or
	// IDENTITY_ENDPOINT on App Service and Container Apps), user-assigned when AzureClientID
	// is set. Tokens are cached until five minutes before expiry. The zero value, false, uses
	// the header or parameter above (an api-key header, or an Entra bearer token). As in
	// Kong, it applies to provider "azure" only.
	AzureUseManagedIdentity bool `json:"azure_use_managed_identity,omitempty"`
	// AzureClientID, AzureClientSecret and AzureTenantID name the identity for
	// AzureUseManagedIdentity. Empty means AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and
	// AZURE_TENANT_ID from the environment, as in Kong; they have no effect without it.
	AzureClientID     Secret `json:"azure_client_id,omitempty"`
	AzureClientSecret Secret `json:"azure_client_secret,omitempty"`
	AzureTenantID     Secret `json:"azure_tenant_id,omitempty"`
	// GCPUseServiceAccount authenticates to Gemini on Vertex AI with OAuth tokens of a
	// service account: GCPServiceAccountJSON, or the GCP_SERVICE_ACCOUNT environment
	// variable when that is empty. The zero value, false, uses the header or parameter above.
	GCPUseServiceAccount bool `json:"gcp_use_service_account,omitempty"`
	// GCPServiceAccountJSON is the service account's JSON key, for GCPUseServiceAccount.
	// Empty means GCP_SERVICE_ACCOUNT, as in Kong.
	GCPServiceAccountJSON Secret `json:"gcp_service_account_json,omitempty"`
	// AWSAccessKeyID and AWSSecretAccessKey sign Bedrock requests (SigV4). Empty means
	// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the environment,
	// as in Kong. Other providers ignore them.
	AWSAccessKeyID     Secret `json:"aws_access_key_id,omitempty"`
	AWSSecretAccessKey Secret `json:"aws_secret_access_key,omitempty"`
}

// Logging is Kong's logging block.
type Logging struct {
	// LogStatistics logs each request's statistics (Stats) through Config.Logger. The zero
	// value, false, logs nothing (Hook.AfterResponse still gets the Stats).
	LogStatistics bool `json:"log_statistics,omitempty"`
	// LogPayloads adds the request and response bodies to that log entry, with
	// credentials removed. The zero value, false, leaves them out.
	LogPayloads bool `json:"log_payloads,omitempty"`
}

// fields lists the Secret fields of a, by their Kong names.
func (a *Auth) fields() []secret.Field {
	return []secret.Field{
		{Path: "header_name", Value: &a.HeaderName}, {Path: "header_value", Value: &a.HeaderValue},
		{Path: "param_name", Value: &a.ParamName}, {Path: "param_value", Value: &a.ParamValue},
		{Path: "azure_client_id", Value: &a.AzureClientID}, {Path: "azure_client_secret", Value: &a.AzureClientSecret},
		{Path: "azure_tenant_id", Value: &a.AzureTenantID}, {Path: "gcp_service_account_json", Value: &a.GCPServiceAccountJSON},
		{Path: "aws_access_key_id", Value: &a.AWSAccessKeyID}, {Path: "aws_secret_access_key", Value: &a.AWSSecretAccessKey},
	}
}

// validate checks what Kong's schema checks of one target.
func (t *Target) validate() error {
	var errs []error
	switch t.RouteType {
	case "", provider.Chat, provider.Completions, provider.Embeddings, provider.Responses:
	case routeRealtime:
		if !realtimeProviders[t.Model.Provider] || t.Provider != nil {
			errs = append(errs, fmt.Errorf("route_type %s is served for providers openai and azure, not %q", routeRealtime, t.Model.Provider))
		}
	default:
		if !mediaRouteTypes[t.RouteType] {
			errs = append(errs, fmt.Errorf("route_type %q is not supported (llm/v1/chat, llm/v1/completions, llm/v1/embeddings, llm/v1/responses, "+
				"audio/v1/audio/speech, audio/v1/audio/transcriptions, audio/v1/audio/translations, image/v1/images/generations, image/v1/images/edits, "+
				"llm/v1/files, llm/v1/batches, llm/v1/assistants, video/v1/videos/generations, preserve, realtime/v1/realtime)", t.RouteType))
		}
	}
	if t.Model.Provider == "" && t.Provider == nil {
		errs = append(errs, errors.New("model.provider is required"))
	}
	if t.Weight < 0 || t.Weight > 65535 {
		errs = append(errs, fmt.Errorf("weight %d is out of range 1..65535", t.Weight))
	}
	o := t.Model.Options
	if o.Temperature != nil && (*o.Temperature < 0 || *o.Temperature > 5) {
		errs = append(errs, fmt.Errorf("model.options.temperature %v is out of range 0..5", *o.Temperature))
	}
	if o.TopP != nil && (*o.TopP < 0 || *o.TopP > 1) {
		errs = append(errs, fmt.Errorf("model.options.top_p %v is out of range 0..1", *o.TopP))
	}
	if o.TopK != nil && (*o.TopK < 0 || *o.TopK > 500) {
		errs = append(errs, fmt.Errorf("model.options.top_k %d is out of range 0..500", *o.TopK))
	}
	if o.MaxTokens != nil && *o.MaxTokens < 1 {
		errs = append(errs, fmt.Errorf("model.options.max_tokens %d must be positive", *o.MaxTokens))
	}
	if g := o.Gemini; g != nil && g.EndpointID != "" {
		if g.ProjectID == "" && o.UpstreamURL == "" {
			errs = append(errs, errors.New("model.options.gemini.endpoint_id needs project_id (and location_id): a Vertex AI endpoint"))
		}
		if t.RouteType != "" && t.RouteType != provider.Chat {
			errs = append(errs, fmt.Errorf("model.options.gemini.endpoint_id: a Vertex AI endpoint serves llm/v1/chat, not %s", t.RouteType))
		}
	}
	if b := o.Bedrock; b != nil && b.VideoOutputS3URI != "" {
		errs = append(errs, errors.New("model.options.bedrock.video_output_s3_uri is not supported: aiproxy serves chat, completions and embeddings"))
	}
	switch t.Auth.ParamLocation {
	case "", "query", "body":
	default:
		errs = append(errs, fmt.Errorf("auth.param_location %q must be query or body", t.Auth.ParamLocation))
	}
	if (t.Auth.HeaderName == "") != (t.Auth.HeaderValue == "") {
		errs = append(errs, errors.New("auth.header_name and auth.header_value go together"))
	}
	if (t.Auth.ParamName == "") != (t.Auth.ParamValue == "") {
		errs = append(errs, errors.New("auth.param_name and auth.param_value go together"))
	}
	if t.Auth.GCPUseServiceAccount && t.Auth.AzureUseManagedIdentity {
		errs = append(errs, errors.New("auth.gcp_use_service_account and auth.azure_use_managed_identity exclude each other"))
	}
	return errors.Join(errs...)
}

// displayName is "<provider>/<model>", as in Kong's X-Kong-LLM-Model header.
func (t *Target) displayName() string {
	if t.Model.Name == "" {
		return t.Model.Provider
	}
	return t.Model.Provider + "/" + t.Model.Name
}

// isCatchall reports whether t is the semantic balancer's fallback target.
func (t *Target) isCatchall() bool { return strings.TrimSpace(t.Description) == Catchall }

// target is a Target with what New derived from it and its runtime measurements.
type target struct {
	cfg    Target
	name   string
	weight int
	prov   provider.Provider
	signer provider.Signer // non-nil when prov signs requests
	edits  []jsonx.Edit    // model name and model.options defaults, applied to each body
	auth   auth
	bearer bearer                   // set with auth.gcp_use_service_account or azure_use_managed_identity
	aws    provider.CredentialsFunc // set when signer is: what it signs with
	// secrets resolves the references among the target's credentials.
	secrets *secret.Vaults
	// modelHeader is the X-Kong-LLM-Model value: "<provider>/<model>".
	modelHeader []string
	// asksUsage: the upstream reports a stream's usage only when asked (OpenAI's API).
	asksUsage bool
	// tmpl holds the template variables of the model; nil without any.
	tmpl *modelTemplate
	// passCredentials: the target sets no credential of its own (no auth header or
	// parameter, service account or request signing), so the client's are forwarded, as
	// Kong forwards them.
	passCredentials bool

	inflight atomic.Int64
	health   breaker
	latency  ewma         // seconds, per latency_strategy
	usage    recent       // tokens or cost, per tokens_count_strategy
	fleet    *fleetTarget // the fleet's state of the target; nil without Config.Fleet
}

// targetEnv is what every target of a Proxy shares.
type targetEnv struct {
	providers  map[string]provider.Provider // Config.Providers
	secrets    *secret.Vaults
	client     *http.Client // the proxy's transport, for token requests
	now        func() time.Time
	assumeRole func(provider.BedrockOptions, provider.CredentialsFunc, *http.Client) provider.CredentialsFunc
}

// newTarget validates one target and derives what each request needs from it.
func newTarget(cfg Target, env *targetEnv) (*target, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.RouteType == "" {
		cfg.RouteType = provider.Chat
	}
	cfg.Model = withEnvDefaults(cfg.Model)
	t := &target{cfg: cfg, name: cmp.Or(cfg.Name, cfg.displayName()), weight: cmp.Or(cfg.Weight, 100),
		secrets: env.secrets, modelHeader: []string{cfg.displayName()}}
	t.prov = cfg.Provider
	if t.prov == nil {
		t.prov = env.providers[cfg.Model.Provider]
	}
	if t.prov == nil {
		var err error
		if t.prov, err = builtinProvider(cfg.Model); err != nil {
			return nil, err
		}
	}
	if cfg.Model.Name != "" {
		t.edits = append(t.edits, jsonx.Edit{Key: "model", Value: jsonx.AppendString(nil, cfg.Model.Name)})
	}
	o := cfg.Model.Options
	if o.MaxTokens != nil {
		t.edits = append(t.edits, jsonx.Edit{Key: "max_tokens", Value: strconv.AppendInt(nil, int64(*o.MaxTokens), 10), OnlyIfAbsent: true})
	}
	if o.Temperature != nil {
		t.edits = append(t.edits, jsonx.Edit{Key: "temperature", Value: strconv.AppendFloat(nil, *o.Temperature, 'g', -1, 64), OnlyIfAbsent: true})
	}
	if o.TopP != nil {
		t.edits = append(t.edits, jsonx.Edit{Key: "top_p", Value: strconv.AppendFloat(nil, *o.TopP, 'g', -1, 64), OnlyIfAbsent: true})
	}
	t.auth = newAuth(&t.cfg.Auth)
	t.bearer = newBearer(&t.cfg.Auth, cfg.Model.Provider, env.secrets, env.client, env.now)
	if t.signer, _ = t.prov.(provider.Signer); t.signer != nil {
		if b := o.Bedrock; b != nil && b.AWSAssumeRoleARN != "" && env.assumeRole == nil {
			return nil, errors.New("model.options.bedrock.aws_assume_role_arn needs Config.AssumeRole: set it to awsrole.Assume " +
				"(import github.com/aiproxy/aiproxy/credential/awsrole; package kong does this for Kong files)")
		}
		t.aws = awsCredentials(&t.cfg.Auth, o.Bedrock, env.secrets, env.client, env.assumeRole)
	}
	t.asksUsage = cfg.Model.Provider == "openai" && cfg.RouteType == provider.Chat
	t.passCredentials = cfg.Auth.HeaderName == "" && cfg.Auth.ParamName == "" && t.bearer == nil && t.signer == nil
	return t, nil
}

// upstream is one attempt's request to a target.
type upstream struct {
	preq *provider.Request
	req  *http.Request
	// creds are the credentials sent, scrubbed from what the upstream answers.
	creds [3]string
}

// request builds the upstream request of one attempt on t: body (the client's, edited for
// t, or the proxy's own) translated by t's provider, with the client's headers and query
// parameters (none when client is nil), and t's credentials.
func (t *target) request(ctx context.Context, route provider.RouteType, body []byte, stream bool, client *http.Request) (upstream, *failed) {
	return t.requestModel(ctx, route, body, stream, client, &t.cfg.Model)
}

// requestModel is request with the model as resolved for this request (template variables).
func (t *target) requestModel(ctx context.Context, route provider.RouteType, body []byte, stream bool, client *http.Request, model *provider.Model) (upstream, *failed) {
	header, param, err := t.auth.resolve(ctx, t.secrets)
	if err != nil {
		return upstream{}, credentialFailure("secret_unavailable", err)
	}
	if e, ok := t.auth.bodyParam(param); ok {
		body = jsonx.Apply(make([]byte, 0, len(body)+len(e.Key)+len(e.Value)+8), body, []jsonx.Edit{e})
	}
	preq := &provider.Request{RouteType: route, Model: *model, Body: body, Stream: stream}
	req, err := t.provider(route).NewRequest(ctx, preq)
	if err != nil {
		// The request cannot be translated for this provider: the client's to fix, not retried.
		var pe *provider.Error
		if !errors.As(err, &pe) {
			pe = &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: err.Error()}
		}
		return upstream{}, &failed{err: pe}
	}
	if t.bearer != nil {
		tok, err := t.bearer.token(ctx)
		if err != nil {
			return upstream{}, credentialFailure("credentials_unavailable", err)
		}
		req.Header["Authorization"] = []string{"Bearer " + tok}
	}
	if client != nil {
		copyRequestHeaders(req.Header, client.Header, header.name, t.cfg.Auth.AllowOverride, t.passCredentials)
		if route == routeMessages || route == routeCountTokens { // passed through: the body is in the client's version of the API
			if v := client.Header["Anthropic-Version"]; len(v) > 0 {
				req.Header["Anthropic-Version"] = v
			}
		}
		if client.URL != nil {
			copyQuery(req.URL, client.URL.RawQuery)
		}
	}
	t.auth.apply(req, header, param)
	u := upstream{preq: preq, req: req, creds: [3]string{header.value, param.value, req.Header.Get("Authorization")}}
	if t.signer != nil {
		cred, err := t.aws(ctx)
		if err != nil {
			return upstream{}, credentialFailure("credentials_unavailable", err)
		}
		if err := t.signer.Sign(req, cred); err != nil {
			return upstream{}, credentialFailure("signing_failed", err)
		}
	}
	return u, nil
}

// credentialFailure is an attempt that failed before sending, for want of a credential. A
// vault or token endpoint that cannot be reached is told without the socket addresses that
// the network error names.
func credentialFailure(code string, err error) *failed {
	msg := err.Error()
	var op *net.OpError
	var dns *net.DNSError
	var ue *url.Error
	if errors.As(err, &op) || errors.As(err, &dns) || errors.As(err, &ue) {
		msg = "the credential service could not be reached: " + errText(err)
		if se := (*secret.Error)(nil); errors.As(err, &se) {
			msg = "resolving " + se.Ref.String() + ": vault " + strconv.Quote(se.Ref.Vault) + " could not be reached: " + errText(err)
		}
	}
	return &failed{kind: onError, err: &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Code: code, Message: msg}}
}
