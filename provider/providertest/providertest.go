// Package providertest is the conformance suite every provider.Provider passes.
//
// A provider's tests call Run with the provider and a directory of golden files written by
// hand from the upstream's public API documentation. Each golden is a txtar-style archive
// (see Golden) whose sections say what to check; one golden may hold several checks:
//
//	model.json              optional: the target's model block, merged over Case.Model
//	route                   optional: the route type, default llm/v1/chat
//	request.json            the client's OpenAI-format request body
//	upstream-request.http   the exact upstream request NewRequest must build:
//	                          METHOD URL
//	                          Header: value      (every header, no more, no less)
//	                          <blank line>
//	                          body               (compared as JSON when it is JSON)
//	request-error           NewRequest must fail, with an error containing this text
//	upstream-headers        optional response headers ("Key: value" lines)
//	upstream-response       a successful upstream body; response.json is the OpenAI body
//	                        ParseResponse must produce (usage.json optional, else its usage)
//	upstream-stream         upstream stream bytes; chunks.jsonl holds the OpenAI events Next
//	                        must return, one JSON per line; stream-error.json the *provider.Error
//	                        that must end the stream, if any; usage.json the final Usage()
//	status, upstream-error  an error response; error.json the provider.Error ParseError gives:
//	                        {"status","type","code","param","message","retry_after_seconds"}
//	tool-results.json       with followup-request.http: tool-call round trip (see below)
//
// Besides the goldens, Run checks properties every provider must have: NewRequest is
// deterministic and leaves the request body untouched; every stream gives byte-identical
// events however its bytes are split across reads (whole, 1 byte, odd sizes, random splits);
// chunks follow OpenAI's streaming rules (role first, one id and model, tool-call deltas that
// open with id and name, a single finish_reason per choice, a usage chunk last if and only if
// stream_options.include_usage); tool calls name declared tools and carry JSON arguments; and,
// with followup-request.http, the assistant message ParseResponse produced is sent back with
// tool results (tool-results.json: one string per call) and must give the expected upstream
// request: a full OpenAI → provider → OpenAI → provider round trip of tool calls.
//
// Generated fields: "created" must be a positive integer and its value is not compared.
package providertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
)

// Check names one kind of check that goldens exercise.
type Check string

// The checks Run counts; Case.Require lists those that at least one golden must exercise.
const (
	CheckRequest       Check = "request"
	CheckResponse      Check = "response"
	CheckStream        Check = "stream"
	CheckError         Check = "error"
	CheckToolRoundTrip Check = "tool-roundtrip"
)

// AllChecks is the default of Case.Require.
var AllChecks = []Check{CheckRequest, CheckResponse, CheckStream, CheckError, CheckToolRoundTrip}

// Case is one provider under test.
type Case struct {
	// Provider is the provider under test. Required.
	Provider provider.Provider
	// Model is the target's model block; a golden's model.json is merged over it.
	Model provider.Model
	// Dir is the directory of *.txtar goldens; empty means "testdata".
	Dir string
	// Require lists the checks at least one golden must exercise; nil means AllChecks.
	Require []Check
	// EncodeStream, if set, turns a golden's upstream-stream section into the bytes the
	// upstream sends, for binary framings that cannot be written by hand (Bedrock's AWS event
	// stream is written as a JSON list of events). Nil means the section is the bytes.
	EncodeStream func(section []byte) ([]byte, error)
}

// streamBytes returns the upstream bytes of a golden's upstream-stream section.
func (c Case) streamBytes(section []byte) ([]byte, error) {
	if c.EncodeStream == nil {
		return section, nil
	}
	return c.EncodeStream(section)
}

// Run runs every golden in c.Dir against c.Provider as subtests.
func Run(t *testing.T, c Case) {
	t.Helper()
	dir := c.Dir
	if dir == "" {
		dir = "testdata"
	}
	goldens, err := LoadGoldens(dir)
	require.NoError(t, err)
	require.NotEmpty(t, goldens, "no goldens in %s", dir)
	seen := map[Check]bool{}
	for _, g := range goldens {
		t.Run(g.Name(), func(t *testing.T) {
			for _, ch := range c.runGolden(t, g) {
				seen[ch] = true
			}
		})
	}
	req := c.Require
	if req == nil {
		req = AllChecks
	}
	for _, ch := range req {
		if !seen[ch] {
			t.Errorf("no golden in %s exercises the %q check", dir, ch)
		}
	}
}

func (c Case) runGolden(t *testing.T, g *Golden) []Check {
	var done []Check
	r := c.Request(t, g)
	if g.Has("upstream-request.http") || g.Has("request-error") {
		t.Run("request", func(t *testing.T) { c.checkRequest(t, g, r, "upstream-request.http") })
		done = append(done, CheckRequest)
	}
	if g.Has("upstream-response") {
		t.Run("response", func(t *testing.T) {
			if c.checkResponse(t, g, r) {
				done = append(done, CheckToolRoundTrip)
			}
		})
		done = append(done, CheckResponse)
	}
	if g.Has("upstream-stream") {
		t.Run("stream", func(t *testing.T) { c.checkStream(t, g, r) })
		done = append(done, CheckStream)
	}
	if g.Has("upstream-error") || g.Has("status") {
		t.Run("error", func(t *testing.T) { c.checkError(t, g, r) })
		done = append(done, CheckError)
	}
	if len(done) == 0 {
		t.Errorf("%s: no checkable sections (have %v)", g.Path, g.order)
	}
	return done
}

// Request builds the provider.Request of a golden: Case.Model with model.json merged over it,
// the route, and request.json (or a one-message default) as the body.
func (c Case) Request(t testing.TB, g *Golden) *provider.Request {
	t.Helper()
	m := c.Model
	if b, ok := g.Sections["model.json"]; ok {
		// Merge into a deep copy: Case.Model's option pointers must not see one golden's
		// options leak into the next.
		base, err := json.Marshal(c.Model)
		require.NoError(t, err)
		m = provider.Model{}
		require.NoError(t, json.Unmarshal(base, &m))
		require.NoError(t, json.Unmarshal(b, &m), "model.json")
	}
	r := &provider.Request{RouteType: provider.Chat, Model: m}
	if b, ok := g.Sections["route"]; ok {
		r.RouteType = provider.RouteType(strings.TrimSpace(string(b)))
	}
	body, ok := g.Sections["request.json"]
	if !ok {
		body = DefaultBody(r.RouteType, m.Name, g.Has("upstream-stream"))
	}
	require.True(t, json.Valid(body), "request.json is not valid JSON")
	r.Body = body
	var s struct {
		Stream bool `json:"stream"`
	}
	_ = json.Unmarshal(body, &s)
	r.Stream = s.Stream
	return r
}

// DefaultBody is the request body used when a golden has no request.json.
func DefaultBody(rt provider.RouteType, model string, stream bool) []byte {
	m, _ := json.Marshal(model)
	if rt == provider.Embeddings {
		return []byte(`{"model":` + string(m) + `,"input":"Hello"}`)
	}
	s := ""
	if stream {
		s = `,"stream":true`
	}
	return []byte(`{"model":` + string(m) + `,"messages":[{"role":"user","content":"Hello"}]` + s + `}`)
}

// --- request ---------------------------------------------------------------------------

type wantHTTP struct {
	method, url string
	header      http.Header
	body        []byte
}

func parseHTTP(t testing.TB, b []byte) wantHTTP {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(b))
	first, _ := br.ReadString('\n')
	method, url, ok := strings.Cut(strings.TrimSpace(first), " ")
	require.True(t, ok, "first line must be METHOD URL, got %q", first)
	w := wantHTTP{method: method, url: strings.TrimSpace(url), header: http.Header{}}
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		require.True(t, ok, "bad header line %q", line)
		w.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		if err != nil {
			break
		}
	}
	w.body, _ = io.ReadAll(br)
	w.body = bytes.TrimSpace(w.body)
	return w
}

func headerLines(h http.Header) string {
	var lines []string
	for k, vs := range h {
		for _, v := range vs {
			lines = append(lines, http.CanonicalHeaderKey(k)+": "+v)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func readReq(t testing.TB, req *http.Request) []byte {
	t.Helper()
	if req.Body == nil {
		return nil
	}
	b, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	return b
}

func (c Case) checkRequest(t *testing.T, g *Golden, r *provider.Request, section string) {
	orig := bytes.Clone(r.Body)
	req, err := c.Provider.NewRequest(context.Background(), r)
	if want, ok := g.Sections["request-error"]; ok && section == "upstream-request.http" {
		require.Error(t, err, "NewRequest must fail")
		assert.Contains(t, err.Error(), strings.TrimSpace(string(want)))
		return
	}
	require.NoError(t, err)
	want := parseHTTP(t, g.Sections[section])
	body := readReq(t, req)
	assert.Equal(t, want.method, req.Method, "method")
	assert.Equal(t, want.url, req.URL.String(), "URL")
	assert.Equal(t, headerLines(want.header), headerLines(req.Header), "headers")
	if json.Valid(want.body) {
		require.True(t, json.Valid(body), "upstream body is not JSON: %s", body)
		assert.JSONEq(t, string(want.body), string(body), "body")
	} else {
		assert.Equal(t, string(want.body), string(bytes.TrimSpace(body)), "body")
	}
	if len(body) > 0 {
		assert.Equal(t, int64(len(body)), req.ContentLength, "ContentLength")
	}
	assert.Equal(t, orig, r.Body, "NewRequest modified the request body")

	// Deterministic: the same input gives the same request, byte for byte.
	req2, err := c.Provider.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, req.Method, req2.Method)
	assert.Equal(t, req.URL.String(), req2.URL.String())
	assert.Equal(t, headerLines(req.Header), headerLines(req2.Header))
	assert.Equal(t, string(body), string(readReq(t, req2)), "NewRequest is not deterministic")
}

// --- response --------------------------------------------------------------------------

func (c Case) header(t testing.TB, g *Golden) http.Header {
	h := http.Header{}
	if b, ok := g.Sections["upstream-headers"]; ok {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
	}
	return h
}

// checkResponse reports whether it completed a tool-call round trip.
func (c Case) checkResponse(t *testing.T, g *Golden, r *provider.Request) bool {
	h := c.header(t, g)
	body := g.Sections["upstream-response"]
	resp, err := c.Provider.ParseResponse(r, h, body)
	if want, ok := g.Sections["response-error.json"]; ok {
		var pe *provider.Error
		require.ErrorAs(t, err, &pe)
		compareError(t, want, pe)
		return false
	}
	require.NoError(t, err)
	require.True(t, json.Valid(resp.Body), "response body is not JSON: %s", resp.Body)
	want, ok := g.Sections["response.json"]
	require.True(t, ok, "upstream-response needs response.json")
	assert.JSONEq(t, string(normalize(t, want)), string(normalize(t, resp.Body)), "response body")

	var doc struct {
		Model string          `json:"model"`
		Usage json.RawMessage `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(want, &doc))
	wantUsage := doc.Usage
	if u, ok := g.Sections["usage.json"]; ok {
		wantUsage = u
	}
	if len(wantUsage) > 0 {
		var u provider.Usage
		require.NoError(t, json.Unmarshal(wantUsage, &u))
		assert.Equal(t, u, resp.Usage, "Response.Usage")
	}
	// Response.Model is what the upstream said served the request, empty if it did not say
	// (Bedrock, Cohere); when set, the body must name the same model.
	if resp.Model != "" {
		assert.Equal(t, doc.Model, resp.Model, "Response.Model")
	}

	again, err := c.Provider.ParseResponse(r, h, body)
	require.NoError(t, err)
	assert.Equal(t, string(normalize(t, resp.Body)), string(normalize(t, again.Body)), "ParseResponse is not deterministic")

	if r.RouteType != provider.Chat {
		return false
	}
	var cc provider.ChatCompletion
	require.NoError(t, json.Unmarshal(resp.Body, &cc))
	assert.Equal(t, "chat.completion", cc.Object)
	assert.NotEmpty(t, cc.ID, "id")
	require.NotEmpty(t, cc.Choices, "choices")
	for _, ch := range cc.Choices {
		assert.Equal(t, "assistant", ch.Message.Role)
		assert.Contains(t, []string{"stop", "length", "tool_calls", "content_filter"}, ch.FinishReason)
	}
	calls := cc.Choices[0].Message.ToolCalls
	if len(calls) == 0 {
		return false
	}
	checkToolCalls(t, r, calls)
	assert.Equal(t, "tool_calls", cc.Choices[0].FinishReason)
	if !g.Has("followup-request.http") {
		return false
	}
	c.followUp(t, g, r, cc.Choices[0].Message)
	return true
}

// checkToolCalls checks calls against the tools the request declared.
func checkToolCalls(t *testing.T, r *provider.Request, calls []provider.ToolCall) {
	var req provider.ChatRequest
	require.NoError(t, json.Unmarshal(r.Body, &req))
	var names []string
	for _, tl := range req.Tools {
		names = append(names, tl.Function.Name)
	}
	ids := map[string]bool{}
	for _, tc := range calls {
		assert.NotEmpty(t, tc.ID, "tool call id")
		assert.False(t, ids[tc.ID], "duplicate tool call id %q", tc.ID)
		ids[tc.ID] = true
		assert.Equal(t, "function", tc.Type)
		assert.Contains(t, names, tc.Function.Name, "tool call names an undeclared tool")
		var args map[string]any
		assert.NoError(t, json.Unmarshal([]byte(tc.Function.Arguments), &args), "arguments must be a JSON object: %q", tc.Function.Arguments)
	}
}

// followUp sends the translated assistant message back with tool results.
func (c Case) followUp(t *testing.T, g *Golden, r *provider.Request, msg provider.ResponseMessage) {
	var results []string
	if b, ok := g.Sections["tool-results.json"]; ok {
		require.NoError(t, json.Unmarshal(b, &results), "tool-results.json must be an array of strings")
	}
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.Body, &doc))
	var msgs []json.RawMessage
	require.NoError(t, json.Unmarshal(doc["messages"], &msgs))
	am := map[string]any{"role": "assistant", "content": msg.Content, "tool_calls": msg.ToolCalls}
	b, err := json.Marshal(am)
	require.NoError(t, err)
	msgs = append(msgs, b)
	for i, tc := range msg.ToolCalls {
		res := `{"ok":true}`
		if i < len(results) {
			res = results[i]
		}
		b, err := json.Marshal(map[string]string{"role": "tool", "tool_call_id": tc.ID, "content": res})
		require.NoError(t, err)
		msgs = append(msgs, b)
	}
	doc["messages"], err = json.Marshal(msgs)
	require.NoError(t, err)
	body, err := json.Marshal(doc)
	require.NoError(t, err)
	r2 := *r
	r2.Body = body
	c.checkRequest(t, g, &r2, "followup-request.http")
}

// --- stream ----------------------------------------------------------------------------

// Drain reads a stream to its end; it returns the events, the final usage and the
// terminating error (nil at io.EOF).
func Drain(s provider.Stream) ([][]byte, provider.Usage, error) {
	var out [][]byte
	for n := 0; ; n++ {
		ev, err := s.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, s.Usage(), err
		}
		out = append(out, bytes.Clone(ev))
	}
}

// Splits are the ways Run cuts a stream's bytes across reads; each must give the same events.
func Splits(b []byte) map[string]io.Reader {
	m := map[string]io.Reader{
		"whole":    bytes.NewReader(b),
		"1 byte":   iotest.OneByteReader(bytes.NewReader(b)),
		"data+EOF": iotest.DataErrReader(bytes.NewReader(b)),
		"half":     iotest.HalfReader(bytes.NewReader(b)),
	}
	for _, n := range []int{2, 3, 7, 13, 61} {
		m["size "+strconv.Itoa(n)] = &chunkReader{b: b, next: func() int { return n }}
	}
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		m["random "+strconv.FormatUint(seed, 10)] = &chunkReader{b: b, next: func() int { return 1 + rng.IntN(40) }}
	}
	return m
}

type chunkReader struct {
	b    []byte
	next func() int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := min(r.next(), len(p), len(r.b))
	copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

func (c Case) checkStream(t *testing.T, g *Golden, r *provider.Request) {
	rs := *r
	rs.Stream = true
	h := c.header(t, g)
	raw, err := c.streamBytes(g.Sections["upstream-stream"])
	require.NoError(t, err, "EncodeStream")

	evs, usage, serr := Drain(c.Provider.NewStream(&rs, h, bytes.NewReader(raw)))
	base := joinNormalized(t, evs)
	for name, rd := range Splits(raw) {
		evs2, usage2, serr2 := Drain(c.Provider.NewStream(&rs, h, rd))
		assert.Equal(t, base, joinNormalized(t, evs2), "split %q gives different events", name)
		assert.Equal(t, fmt.Sprint(serr), fmt.Sprint(serr2), "split %q gives a different error", name)
		assert.Equal(t, usage, usage2, "split %q gives a different usage", name)
	}

	wantLines := nonEmptyLines(g.Sections["chunks.jsonl"])
	require.True(t, g.Has("chunks.jsonl"), "upstream-stream needs chunks.jsonl")
	if !assert.Len(t, evs, len(wantLines), "number of events") {
		for i, ev := range evs {
			t.Logf("event %d: %s", i, ev)
		}
	}
	for i := range min(len(evs), len(wantLines)) {
		assert.JSONEq(t, string(normalize(t, wantLines[i])), string(normalize(t, evs[i])), "event %d", i)
	}
	if want, ok := g.Sections["stream-error.json"]; ok {
		var pe *provider.Error
		require.ErrorAs(t, serr, &pe, "the stream must end with a *provider.Error")
		compareError(t, want, pe)
	} else {
		require.NoError(t, serr)
	}
	if u, ok := g.Sections["usage.json"]; ok {
		var want provider.Usage
		require.NoError(t, json.Unmarshal(u, &want))
		assert.Equal(t, want, usage, "Stream.Usage")
	}
	if rs.RouteType == provider.Chat {
		var req provider.ChatRequest
		require.NoError(t, json.Unmarshal(rs.Body, &req))
		includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
		calls := CheckChunks(t, evs, includeUsage, serr == nil)
		if len(calls) > 0 {
			checkToolCalls(t, &rs, calls)
		}
	}
}

func nonEmptyLines(b []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}

func joinNormalized(t testing.TB, evs [][]byte) string {
	var b strings.Builder
	for _, ev := range evs {
		b.Write(normalize(t, ev))
		b.WriteByte('\n')
	}
	return b.String()
}

// CheckChunks checks OpenAI's streaming rules on a sequence of chat.completion.chunk events
// and returns the tool calls they assemble (choice 0). completed says the stream ended
// normally (not with an error).
func CheckChunks(t testing.TB, evs [][]byte, includeUsage, completed bool) []provider.ToolCall {
	t.Helper()
	if len(evs) == 0 {
		if completed {
			t.Error("a completed stream has no events")
		}
		return nil
	}
	var id, model string
	finished := map[int]bool{}
	var calls []provider.ToolCall
	sawUsage := false
	for i, ev := range evs {
		var ch provider.ChatChunk
		if !assert.NoError(t, json.Unmarshal(ev, &ch), "event %d is not a chunk: %s", i, ev) {
			continue
		}
		assert.Equal(t, "chat.completion.chunk", ch.Object, "event %d object", i)
		if i == 0 {
			id, model = ch.ID, ch.Model
			assert.NotEmpty(t, id, "chunk id")
			if assert.NotEmpty(t, ch.Choices, "first chunk has no choice") {
				assert.Equal(t, "assistant", ch.Choices[0].Delta.Role, "the first chunk must carry the role")
			}
		}
		assert.Equal(t, id, ch.ID, "event %d id changes", i)
		assert.Equal(t, model, ch.Model, "event %d model changes", i)
		if ch.Usage != nil {
			assert.True(t, includeUsage, "event %d has usage but the client did not ask include_usage", i)
			assert.Equal(t, len(evs)-1, i, "usage must be in the last chunk")
			assert.Empty(t, ch.Choices, "the usage chunk has no choices")
			sawUsage = true
		}
		for _, c := range ch.Choices {
			d := c.Delta
			if finished[c.Index] {
				assert.True(t, d.Content == nil && len(d.ToolCalls) == 0 && c.FinishReason == nil,
					"event %d: choice %d continues after its finish_reason", i, c.Index)
			}
			if c.FinishReason != nil {
				assert.Contains(t, []string{"stop", "length", "tool_calls", "content_filter"}, *c.FinishReason)
				finished[c.Index] = true
			}
			if c.Index != 0 {
				continue
			}
			for _, tc := range d.ToolCalls {
				if !assert.NotNil(t, tc.Index, "event %d: tool call delta without index", i) {
					continue
				}
				n := *tc.Index
				switch {
				case n == len(calls):
					assert.NotEmpty(t, tc.ID, "event %d: the first delta of tool call %d needs an id", i, n)
					assert.NotEmpty(t, tc.Function.Name, "event %d: the first delta of tool call %d needs a name", i, n)
					assert.Equal(t, "function", tc.Type, "event %d: tool call type", i)
					calls = append(calls, provider.ToolCall{ID: tc.ID, Type: tc.Type, Function: tc.Function})
				case n >= 0 && n < len(calls):
					assert.Empty(t, tc.Function.Name, "event %d: tool call %d renamed", i, n)
					calls[n].Function.Arguments += tc.Function.Arguments
				default:
					t.Errorf("event %d: tool call index %d out of order", i, n)
				}
			}
		}
	}
	if completed {
		assert.True(t, finished[0], "a completed stream must give choice 0 a finish_reason")
		if includeUsage {
			assert.True(t, sawUsage, "include_usage was asked: the last chunk must carry usage")
		}
	}
	return calls
}

// --- errors ----------------------------------------------------------------------------

type errorJSON struct {
	Status            int    `json:"status"`
	Type              string `json:"type"`
	Code              string `json:"code"`
	Param             string `json:"param"`
	Message           string `json:"message"`
	RetryAfterSeconds int    `json:"retry_after_seconds"`
}

func compareError(t testing.TB, want []byte, got *provider.Error) {
	t.Helper()
	var w errorJSON
	require.NoError(t, json.Unmarshal(want, &w), "error golden")
	g := errorJSON{Status: got.Status, Type: got.Type, Code: got.Code, Param: got.Param, Message: got.Message,
		RetryAfterSeconds: int(got.RetryAfter.Seconds())}
	assert.Equal(t, w, g)
	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.True(t, json.Valid(b))
}

func (c Case) checkError(t *testing.T, g *Golden, r *provider.Request) {
	status, err := strconv.Atoi(strings.TrimSpace(string(g.Sections["status"])))
	require.NoError(t, err, "status section")
	e := c.Provider.ParseError(r, status, c.header(t, g), g.Sections["upstream-error"])
	require.NotNil(t, e, "ParseError must never return nil")
	assert.GreaterOrEqual(t, e.Status, 400)
	assert.NotEmpty(t, e.Message)
	want, ok := g.Sections["error.json"]
	require.True(t, ok, "an error golden needs error.json")
	compareError(t, want, e)
}

// --- helpers ---------------------------------------------------------------------------

// normalize checks that a JSON object's "created" (if any) is a positive integer and zeroes
// it, so generated timestamps compare equal.
func normalize(t testing.TB, b []byte) []byte {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Errorf("not a JSON object: %v: %s", err, b)
		return b
	}
	if v, ok := m["created"]; ok {
		n, isNum := v.(json.Number)
		if i, err := n.Int64(); !isNum || err != nil || i < 0 {
			t.Errorf("created must be a non-negative integer, got %v", v)
		}
		m["created"] = 0
	}
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}
