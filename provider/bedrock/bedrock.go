// Package bedrock is the provider for Amazon Bedrock's Converse and ConverseStream APIs
// (chat, for every model that Converse serves) and InvokeModel for the Titan and Cohere
// embeddings models and for OpenAI's Images API on Titan Image Generator, Nova Canvas and
// Stability models (image.go).
//
// Requests are signed with AWS Signature Version 4 by the aws-sdk-go-v2 signer: the provider
// implements provider.Signer, and the proxy calls Sign with the target's credentials after
// NewRequest. The region is options.bedrock.aws_region.
//
// ConverseStream answers in AWS's binary event stream (application/vnd.amazon.eventstream),
// decoded here without allocating per frame, both CRCs checked; each frame is bounded by
// MaxFrameSize. The tests encode their frames with aws-sdk-go-v2's eventstream encoder.
package bedrock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// SigningService is the SigV4 service name of bedrock-runtime.
const SigningService = "bedrock"

// Provider speaks Bedrock's runtime API. The zero value is ready to use.
type Provider struct {
	// Now is the clock for SigV4 signing times and for the created field of responses
	// without a Date header; nil means time.Now.
	Now func() time.Time
}

var (
	_ provider.Provider = Provider{}
	_ provider.Signer   = Provider{}
)

func (p Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

type regionKey struct{}

// Endpoint returns the bedrock-runtime endpoint of a region.
func Endpoint(region string) string {
	return "https://bedrock-runtime." + region + ".amazonaws.com"
}

// escapePath escapes a model id for a URL path the way AWS's REST binding does: every byte
// but the unreserved ones, so an ARN's ':' and '/' stay inside one segment.
func escapePath(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func region(r *provider.Request) string {
	if o := r.Model.Options.Bedrock; o != nil {
		return o.AWSRegion
	}
	return ""
}

// operationURL returns the URL of an operation ("converse", "converse-stream", "invoke") on
// a model: options.upstream_url if set, else the region's endpoint.
func operationURL(r *provider.Request, model, op string) (*url.URL, error) {
	if u := r.Model.Options.UpstreamURL; u != "" {
		return url.Parse(u)
	}
	reg := region(r)
	if reg == "" {
		return nil, &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Message: "bedrock: model.options.bedrock.aws_region is not set"}
	}
	return url.Parse(openai.URL(Endpoint(reg), "/model/"+escapePath(model)+"/"+op, r))
}

func modelName(r *provider.Request, fromBody string) string {
	if r.Model.Name != "" {
		return r.Model.Name
	}
	return fromBody
}

// NewRequest builds a Converse, ConverseStream or InvokeModel (embeddings, images) request.
func (p Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	var (
		body  []byte
		model string
		op    string
		err   error
	)
	switch r.RouteType {
	case provider.Chat:
		var req *provider.ChatRequest
		if req, err = xlate.DecodeChat(r); err != nil {
			return nil, err
		}
		model = modelName(r, req.Model)
		if body, err = converseBody(req, r); err != nil {
			return nil, err
		}
		op = "converse"
		if r.Stream {
			op = "converse-stream"
		}
	case provider.Embeddings:
		var req *xlate.EmbeddingsRequest
		if req, err = xlate.DecodeEmbeddings(r); err != nil {
			return nil, err
		}
		model = req.Model
		if body, err = embedBody(req, r); err != nil {
			return nil, err
		}
		op = "invoke"
	case provider.ImageGenerations, provider.ImageEdits:
		if body, model, err = imageBody(r); err != nil {
			return nil, err
		}
		op = "invoke"
	default:
		return nil, xlate.BadRequest("", "bedrock: route type "+string(r.RouteType)+" is not supported")
	}
	if model == "" {
		return nil, xlate.BadRequest("model", "bedrock: no model id")
	}
	u, err := operationURL(r, model, op)
	if err != nil {
		return nil, err
	}
	if reg := region(r); reg != "" {
		ctx = context.WithValue(ctx, regionKey{}, reg)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	req.Header["Content-Type"] = []string{"application/json"}
	if op == "converse-stream" {
		req.Header["Accept"] = []string{"application/vnd.amazon.eventstream"}
	} else {
		req.Header["Accept"] = []string{"application/json"}
	}
	return req, nil
}

// Sign signs req with SigV4 for service "bedrock" in the target's region (from the request's
// context, else from an amazonaws.com host), at p.Now.
//
// The payload hash is computed from the bytes req will send (req.GetBody, which NewRequest
// sets), not from body: the upstream body is the Converse translation, not the client's
// OpenAI body. body is used only for a request without GetBody.
func (p Provider) Sign(req *http.Request, cred provider.Credentials) error {
	var body []byte
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return err
		}
		body, err = io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			return err
		}
	}
	reg, _ := req.Context().Value(regionKey{}).(string)
	if reg == "" {
		reg = regionFromHost(req.URL.Hostname())
	}
	if reg == "" {
		return errors.New("bedrock: cannot sign: no region (set model.options.bedrock.aws_region)")
	}
	if cred.AWSAccessKeyID == "" || cred.AWSSecretAccessKey == "" {
		return errors.New("bedrock: cannot sign: no AWS access key")
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: cred.AWSAccessKeyID, SecretAccessKey: cred.AWSSecretAccessKey, SessionToken: cred.AWSSessionToken}
	return v4.NewSigner().SignHTTP(req.Context(), creds, req, hex.EncodeToString(sum[:]), SigningService, reg, p.now())
}

// regionFromHost reads the region of bedrock-runtime.REGION.amazonaws.com (and the FIPS and
// VPC endpoint forms that end in .REGION.amazonaws.com).
func regionFromHost(host string) string {
	rest, ok := strings.CutSuffix(host, ".amazonaws.com")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(rest, '.'); i >= 0 {
		return rest[i+1:]
	}
	return ""
}
