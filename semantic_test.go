package aiproxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/vectorstore"
	pgvectorstore "github.com/aiproxy/aiproxy/vectorstore/pgvector"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// bagOfWords embeds with aiproxytest.BagOfWords: texts close exactly as far as they share words.
var bagOfWords = aiproxy.EmbedderFunc(func(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = aiproxytest.BagOfWords(t, 256)
	}
	return out, nil
})

// semanticConfig routes between targets described by descs (model name = description's
// first word; "CATCHALL" makes the catchall target "catchall") on one fake upstream.
func semanticConfig(t *testing.T, threshold float64, descs ...string) (aiproxy.Config, *aiproxytest.OpenAI) {
	up := aiproxytest.NewOpenAI()
	t.Cleanup(up.Close)
	cfg := aiproxy.Config{
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Semantic},
		VectorDB: &aiproxy.VectorDBConfig{Threshold: &threshold},
		Embedder: bagOfWords,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, d := range descs {
		name := d
		if i := strings.IndexByte(d, ' '); i > 0 {
			name = d[:i]
		}
		cfg.Targets = append(cfg.Targets, aiproxy.Target{
			Model:       provider.Model{Provider: "openai", Name: name, Options: provider.Options{UpstreamURL: up.ChatURL()}},
			Description: d,
		})
	}
	return cfg, up
}

func TestExamplesScoreByTheBestMatch(t *testing.T) {
	cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "astronomy planets stars", "CATCHALL")
	cfg.Targets[0].Examples = []string{"how long to boil an egg"}
	p := newSeedProxy(t, cfg)

	_, model := chat(t, p, "how long to boil an egg")
	assert.Equal(t, "cooking", model, "the example matches exactly although the description shares no word")
	_, model = chat(t, p, "baking recipes")
	assert.Equal(t, "cooking", model, "the description still counts")

	d, err := p.Explain(context.Background(), "how long to boil an egg")
	require.NoError(t, err)
	assert.InDelta(t, 0, d.Distance, 1e-6, "the score is the best match: the example's")
	require.Len(t, d.Scores, 2, "one score per description, however many examples")
	assert.Equal(t, "cooking recipes baking", d.Scores[0].Description)
}

func TestExplainScoresEveryTarget(t *testing.T) {
	cfg, up := semanticConfig(t, 0.5, "cooking recipes baking", "astronomy planets stars", "CATCHALL")
	p := newSeedProxy(t, cfg)
	d, err := p.Explain(context.Background(), "planets stars recipes")
	require.NoError(t, err)
	assert.True(t, d.Matched)
	assert.Equal(t, "astronomy planets stars", d.Description)
	require.Len(t, d.Scores, 2)
	assert.Equal(t, "astronomy planets stars", d.Scores[0].Description)
	assert.Equal(t, []string{"openai/astronomy"}, d.Scores[0].Targets)
	assert.Equal(t, "cooking recipes baking", d.Scores[1].Description)
	assert.Less(t, d.Scores[0].Distance, d.Scores[1].Distance)
	assert.Equal(t, d.Distance, d.Scores[0].Distance)
	assert.Empty(t, up.Requests(), "Explain sends nothing upstream")

	d, err = p.Explain(context.Background(), "tell me about whales")
	require.NoError(t, err)
	assert.False(t, d.Matched)
	assert.Equal(t, aiproxy.Catchall, d.Description)
	assert.Len(t, d.Scores, 2)
}

func TestFitThreshold(t *testing.T) {
	cfg, _ := semanticConfig(t, 0.1, "cooking recipes baking bread", "astronomy planets stars moon", "CATCHALL")
	p := newSeedProxy(t, cfg)
	examples := []aiproxy.LabeledPrompt{
		{Prompt: "bread recipes", Want: "cooking recipes baking bread"},                   // shares 2 words
		{Prompt: "baking", Want: "cooking recipes baking bread"},                          // 1 word
		{Prompt: "planets moon stars", Want: "astronomy planets stars moon"},              // 3 words
		{Prompt: "the moon", Want: "astronomy planets stars moon"},                        // 1 of 2 words
		{Prompt: "the history of rome", Want: aiproxy.Catchall},                           // none
		{Prompt: "the moon landing hoax and the history of rome", Want: aiproxy.Catchall}, // 1 of 8
	}
	fit, err := p.FitThreshold(context.Background(), examples)
	require.NoError(t, err)
	assert.Equal(t, 6, fit.Correct)
	assert.Equal(t, 6, fit.Total)
	assert.Empty(t, fit.Misses)

	// The threshold found routes every example as labelled, through the Handler.
	cfg2, _ := semanticConfig(t, fit.Threshold, "cooking recipes baking bread", "astronomy planets stars moon", "CATCHALL")
	p2 := newSeedProxy(t, cfg2)
	for _, ex := range examples {
		d, err := p2.Explain(context.Background(), ex.Prompt)
		require.NoError(t, err)
		assert.Equal(t, ex.Want, d.Description, ex.Prompt)
	}

	// An example that no threshold can fix is reported.
	in, err := p.Explain(context.Background(), examples[3].Prompt) // the farthest in-scope example
	require.NoError(t, err)
	out4, err := p.Explain(context.Background(), examples[4].Prompt)
	require.NoError(t, err)
	out5, err := p.Explain(context.Background(), examples[5].Prompt)
	require.NoError(t, err)
	nearestOut := min(out4.Distance, out5.Distance)
	require.Less(t, in.Distance, nearestOut)
	assert.InDelta(t, (in.Distance+nearestOut)/2, fit.Threshold, 1e-9, "the middle of the best interval")

	// An example whose nearest description is another is a miss at every threshold.
	fit, err = p.FitThreshold(context.Background(), append(examples, aiproxy.LabeledPrompt{Prompt: "stars", Want: "cooking recipes baking bread"}))
	require.NoError(t, err)
	assert.Equal(t, 6, fit.Correct)
	require.Len(t, fit.Misses, 1)
	assert.Equal(t, "stars", fit.Misses[0].Prompt)
	assert.Equal(t, "astronomy planets stars moon", fit.Misses[0].Got)

	_, err = p.FitThreshold(context.Background(), []aiproxy.LabeledPrompt{{Prompt: "x", Want: "no such description"}})
	assert.ErrorContains(t, err, "no target's description")
}

// The best interval of thresholds may span several examples' distances (here an example
// no threshold can fix lies inside it): FitThreshold returns the middle of all of it.
func TestFitThresholdMiddleOfTheWholeBestInterval(t *testing.T) {
	cfg, _ := semanticConfig(t, 0.1, "cooking recipes baking bread", "astronomy planets stars moon", "CATCHALL")
	p := newSeedProxy(t, cfg)
	distance := func(prompt string) float64 {
		d, err := p.Explain(context.Background(), prompt)
		require.NoError(t, err)
		return d.Distance
	}
	in, wrong, out := "bread recipes", "stars", "the moon landing hoax and the history of rome"
	dIn, dWrong, dOut := distance(in), distance(wrong), distance(out)
	require.Less(t, dIn, dWrong)
	require.Less(t, dWrong, dOut) // the best count, 2, holds from dIn up to dOut
	fit, err := p.FitThreshold(context.Background(), []aiproxy.LabeledPrompt{
		{Prompt: in, Want: "cooking recipes baking bread"},
		{Prompt: wrong, Want: "cooking recipes baking bread"}, // nearest: astronomy, at every threshold
		{Prompt: out, Want: aiproxy.Catchall},
	})
	require.NoError(t, err)
	assert.Equal(t, 2, fit.Correct)
	assert.InDelta(t, (dIn+dOut)/2, fit.Threshold, 1e-9, "not (dIn+dWrong)/2: the interval goes on past dWrong")

	// Several in-scope examples and no out-of-scope one past them: the best interval has no
	// upper end, and its lowest threshold takes in every example.
	fit, err = p.FitThreshold(context.Background(), []aiproxy.LabeledPrompt{
		{Prompt: in, Want: "cooking recipes baking bread"},
		{Prompt: wrong, Want: "cooking recipes baking bread"},
		{Prompt: "the moon", Want: "astronomy planets stars moon"},
	})
	require.NoError(t, err)
	assert.Equal(t, 2, fit.Correct)
	assert.InDelta(t, max(dIn, distance("the moon")), fit.Threshold, 1e-9)

	// Only out-of-scope examples: every threshold below the nearest does best; the middle of
	// [0, nearest) is returned.
	fit, err = p.FitThreshold(context.Background(), []aiproxy.LabeledPrompt{{Prompt: out, Want: aiproxy.Catchall}, {Prompt: wrong, Want: aiproxy.Catchall}})
	require.NoError(t, err)
	assert.Equal(t, 2, fit.Correct)
	assert.InDelta(t, dWrong/2, fit.Threshold, 1e-9)
}

func TestEmbedderFailureRoutesToCatchall(t *testing.T) {
	var failing atomic.Bool
	var calls atomic.Int64
	embedder := aiproxy.EmbedderFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		calls.Add(1)
		if failing.Load() {
			return nil, errors.New("embeddings API is down")
		}
		return bagOfWords(ctx, texts)
	})
	for _, when := range []string{"at start", "at request time"} {
		t.Run(when, func(t *testing.T) {
			logs := &lockedBuffer{}
			clock := time.Unix(1700000000, 0)
			var mu sync.Mutex
			cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "CATCHALL")
			cfg.Embedder, cfg.Logger = embedder, logs.logger()
			cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
			p := newSeedProxy(t, cfg)
			failing.Store(when == "at start")
			if when == "at request time" {
				_, model := chat(t, p, "baking recipes") // initialises
				require.Equal(t, "cooking", model)
				failing.Store(true)
			}
			rec, model := chat(t, p, "more baking recipes")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "CATCHALL", model)
			assert.Equal(t, "false", rec.Header().Get(aiproxy.HeaderSemanticMatched))
			assert.Contains(t, logs.String(), "semantic routing failed; using the CATCHALL target")
			assert.Contains(t, logs.String(), "embeddings API is down")

			failing.Store(false)
			before := calls.Load()
			_, model = chat(t, p, "baking recipes again")
			assert.Equal(t, "CATCHALL", model, "within 5 s of a failure, requests do not wait for the embedder")
			assert.Equal(t, before, calls.Load())
			mu.Lock()
			clock = clock.Add(5 * time.Second)
			mu.Unlock()
			_, model = chat(t, p, "baking recipes again")
			assert.Equal(t, "cooking", model, "routing recovers")
		})
	}
}

func TestNoCatchallErrors(t *testing.T) {
	t.Run("no match", func(t *testing.T) {
		cfg, up := semanticConfig(t, 0.5, "cooking recipes baking")
		p := newSeedProxy(t, cfg)
		rec, _ := chat(t, p, "tell me about whales")
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		e := openAIError(t, rec.Body.Bytes())
		assert.Equal(t, "invalid_request_error", e.Type)
		assert.Equal(t, "no_semantic_match", e.Code)
		assert.Contains(t, e.Message, "matches no target description within the threshold")
		assert.Empty(t, up.Requests())
	})
	t.Run("embedder down", func(t *testing.T) {
		cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking")
		cfg.Embedder = aiproxy.EmbedderFunc(func(context.Context, []string) ([][]float32, error) {
			return nil, errors.New("embeddings API is down")
		})
		p := newSeedProxy(t, cfg)
		rec, _ := chat(t, p, "baking")
		assert.Equal(t, http.StatusBadGateway, rec.Code)
		e := openAIError(t, rec.Body.Bytes())
		assert.Equal(t, "server_error", e.Type)
		assert.Equal(t, "semantic_routing_failed", e.Code)
		assert.Contains(t, e.Message, "embeddings API is down")
	})
}

type apiError struct{ Message, Type, Code string }

func openAIError(t *testing.T, body []byte) apiError {
	t.Helper()
	var v struct{ Error apiError }
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	return v.Error
}

// MinSimilarity is the threshold as a cosine similarity: 1 − distance.
func TestMinSimilarity(t *testing.T) {
	cfg, _ := semanticConfig(t, 0, "cooking recipes baking", "CATCHALL")
	sim := 0.5
	cfg.VectorDB.Threshold, cfg.VectorDB.MinSimilarity = nil, &sim
	p := newSeedProxy(t, cfg)
	d, err := p.Explain(context.Background(), "baking recipes") // similarity 2/sqrt(6) = 0.82
	require.NoError(t, err)
	assert.True(t, d.Matched)
	d, err = p.Explain(context.Background(), "baking bread and cakes at home") // 1/sqrt(18) = 0.24
	require.NoError(t, err)
	assert.False(t, d.Matched)

	threshold := 0.5
	cfg.VectorDB.Threshold = &threshold
	_, err = aiproxy.New(cfg)
	assert.ErrorContains(t, err, "set threshold or MinSimilarity, not both")
}

// The last user message is what is embedded, the text parts of array content included.
func TestLastUserMessageIsEmbedded(t *testing.T) {
	cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "astronomy planets stars", "CATCHALL")
	p := newSeedProxy(t, cfg)
	body := `{"messages":[{"role":"system","content":"planets stars"},{"role":"user","content":"planets and stars"},
		{"role":"assistant","content":"planets stars"},
		{"role":"user","content":[{"type":"text","text":"baking"},{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"text","text":"recipes"}]}]}`
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body)))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var resp struct{ Model string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	assert.Equal(t, "cooking", resp.Model)
}

// TestSemanticStatisticsAreValidJSON: a request sent to the CATCHALL because the prompt could
// not be embedded (distance +Inf) still logs its statistics as JSON a log pipeline can read.
func TestSemanticStatisticsAreValidJSON(t *testing.T) {
	logs := &lockedBuffer{}
	cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "CATCHALL")
	cfg.Embedder = aiproxy.EmbedderFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		return nil, errors.New("embeddings API is down")
	})
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	for i := range cfg.Targets {
		cfg.Targets[i].Logging.LogStatistics = true
	}
	p := newSeedProxy(t, cfg)
	_, model := chat(t, p, "baking recipes")
	require.Equal(t, "CATCHALL", model)

	var stats map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), line)
		if entry["msg"] == "aiproxy request" {
			stats = entry
		}
	}
	require.NotNil(t, stats, logs.String())
	assert.Equal(t, false, stats["semantic_matched"])
	assert.NotContains(t, logs.String(), "!ERROR")
}

// A client whose deadline passes while its prompt is being embedded gets 504 at once; the
// embedding goes on for another client waiting for the same prompt, who is routed by it.
func TestDeadlineWhileEmbeddingThePrompt(t *testing.T) {
	logs := &lockedBuffer{}
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "CATCHALL")
	cfg.Logger = logs.logger()
	cfg.Embedder = aiproxy.EmbedderFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		if texts[0] == "slow baking recipes" {
			once.Do(func() { close(started) })
			<-release
			if err := ctx.Err(); err != nil {
				return nil, err // the embedding was cancelled with the client that asked first
			}
		}
		return bagOfWords(ctx, texts)
	})
	p := newSeedProxy(t, cfg)
	_, model := chat(t, p, "baking recipes") // initialises
	require.Equal(t, "cooking", model)

	body := `{"messages":[{"role":"user","content":"slow baking recipes"}]}`
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	first := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/chat/completions", strings.NewReader(body)))
		first <- rec
	}()
	<-started
	second := make(chan string)
	go func() { _, model := chat(t, p, "slow baking recipes"); second <- model }()
	cancel()
	var rec *httptest.ResponseRecorder
	select {
	case rec = <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("the client whose context ended still waits for the embedding")
	}
	assert.Equal(t, aiproxy.StatusClientClosedRequest, rec.Code, "a cancel: the client closed the request")
	e := openAIError(t, rec.Body.Bytes())
	assert.Equal(t, "server_error", e.Type)
	assert.Equal(t, "canceled", e.Code)
	assert.NotContains(t, logs.String(), "semantic routing failed", "a client leaving is not a routing failure")

	close(release)
	assert.Equal(t, "cooking", <-second, "the shared embedding is not cancelled with the first client")
}

// A deadline that passes while routing is answered 504 timeout, as a deadline passing during
// an upstream attempt is.
func TestDeadlineWhileRoutingIs504(t *testing.T) {
	cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "CATCHALL")
	cfg.Embedder = aiproxy.EmbedderFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		if texts[0] == "hung" {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return bagOfWords(ctx, texts)
	})
	// The embedding, detached from the request, ends after these three (300 ms).
	cfg.Balancer.ConnectTimeout, cfg.Balancer.WriteTimeout, cfg.Balancer.ReadTimeout = 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond
	p := newSeedProxy(t, cfg)
	_, model := chat(t, p, "baking recipes") // initialises
	require.Equal(t, "cooking", model)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/chat/completions",
		strings.NewReader(`{"messages":[{"role":"user","content":"hung"}]}`)))
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
	e := openAIError(t, rec.Body.Bytes())
	assert.Equal(t, "server_error", e.Type)
	assert.Equal(t, "timeout", e.Code)
	assert.Contains(t, e.Message, "deadline")
}

// A last user message with no text (only images, or empty) has nothing to route by: the
// CATCHALL serves it, with no warning, as this is no failure; without CATCHALL it is 400.
func TestNoPromptTextGoesToCatchall(t *testing.T) {
	bodies := map[string]string{
		"only an image": `{"messages":[{"role":"user","content":"baking recipes"},{"role":"assistant","content":"ok"},
			{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`,
		"empty content":   `{"messages":[{"role":"user","content":"   "}]}`,
		"no user message": `{"messages":[{"role":"system","content":"baking recipes"}]}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			logs := &lockedBuffer{}
			cfg, up := semanticConfig(t, 0.5, "cooking recipes baking", "CATCHALL")
			cfg.Logger = logs.logger()
			p := newSeedProxy(t, cfg)
			rec := postChat(p, body)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			var resp struct{ Model string }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
			assert.Equal(t, "CATCHALL", resp.Model)
			assert.Equal(t, "false", rec.Header().Get(aiproxy.HeaderSemanticMatched))
			assert.Empty(t, logs.String(), "nothing to warn about")
			require.Len(t, up.Requests(), 1)

			cfg, up = semanticConfig(t, 0.5, "cooking recipes baking")
			p = newSeedProxy(t, cfg)
			rec = postChat(p, body)
			assert.Equal(t, http.StatusBadRequest, rec.Code)
			e := openAIError(t, rec.Body.Bytes())
			assert.Equal(t, "invalid_request_error", e.Type)
			assert.Equal(t, "no_prompt_text", e.Code)
			assert.Contains(t, e.Message, "the text of the last user message")
			assert.Empty(t, up.Requests())
		})
	}
}

// Legacy completions requests are routed by their prompt.
func TestCompletionsRoutedByPrompt(t *testing.T) {
	var mu sync.Mutex
	var models []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Model string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		models = append(models, r.URL.Path+" "+req.Model)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"`+req.Model+
			`","choices":[{"text":" done","index":0,"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	t.Cleanup(up.Close)
	cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "astronomy planets stars", "CATCHALL")
	for i := range cfg.Targets {
		cfg.Targets[i].RouteType = provider.Completions
		cfg.Targets[i].Model.Options.UpstreamURL = up.URL + "/v1/completions"
	}
	p := newSeedProxy(t, cfg)
	for body, want := range map[string]string{
		`{"prompt":"baking recipes"}`:                  "cooking",
		`{"prompt":["planets and", "stars"]}`:          "astronomy",
		`{"prompt":"tell me about whales"}`:            "CATCHALL",
		`{"prompt":[[1212, 318, 257]]}`:                "CATCHALL", // tokens: no text
		`{"model":"x","prompt":"more baking recipes"}`: "cooking",
	} {
		mu.Lock()
		models = nil
		mu.Unlock()
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(body)))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		mu.Lock()
		assert.Equal(t, []string{"/v1/completions " + want}, models, body)
		mu.Unlock()
	}
}

func postChat(h http.Handler, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body)))
	return rec
}

// A Config.Embedder without Name() is named by its Go type only: with a store that outlives
// the Proxy, New warns, once; with the memory store, or with a Name, it does not.
func TestEmbedderWithoutNameWarnsWithAPersistentStore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   func(*aiproxy.Config)
		warns bool
	}{
		{"redis", func(c *aiproxy.Config) { c.VectorDB.Strategy, c.VectorDB.Store = "redis", &redisstore.Options{} }, true},
		{"pgvector", func(c *aiproxy.Config) { c.VectorDB.Strategy, c.VectorDB.Store = "pgvector", &pgvectorstore.Options{} }, true},
		{"own store", func(c *aiproxy.Config) { c.VectorStore = storeOfMyOwn{vectorstore.NewMemory("", 0)} }, true},
		{"memory", func(c *aiproxy.Config) {}, false},
		{"memory store given", func(c *aiproxy.Config) { c.VectorStore = vectorstore.NewMemory("", 0) }, false},
		{"named", func(c *aiproxy.Config) {
			c.VectorDB.Strategy, c.VectorDB.Store, c.Embedder = "redis", &redisstore.Options{}, offline.New()
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &lockedBuffer{}
			cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "CATCHALL")
			cfg.Logger = logs.logger()
			tc.set(&cfg)
			p, err := aiproxy.New(cfg) // New does no I/O: no server needed
			require.NoError(t, err)
			t.Cleanup(func() { p.Close() })
			if tc.warns {
				assert.Equal(t, 1, strings.Count(logs.String(), "has no Name() string method"), logs.String())
			} else {
				assert.NotContains(t, logs.String(), "Name()")
			}
		})
	}
}

// storeOfMyOwn is a Config.VectorStore that is not the memory store.
type storeOfMyOwn struct{ vectorstore.Store }

// With distance_metric euclidean the threshold is an L2 distance, on every store: 0.8 takes
// "baking recipes" (L2 0.61 from the description; cosine distance 0.18) but not "baking
// bread and cakes at home" (L2 1.24; cosine distance 0.76, which a cosine 0.8 would take).
// The distance header carries the distance Explain reports.
func TestEuclideanThreshold(t *testing.T) {
	const desc = "cooking recipes baking"
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			cfg, _ := semanticConfig(t, 0.8, desc, "CATCHALL")
			cfg.VectorDB.DistanceMetric = vectorstore.Euclidean
			store.use(t, &cfg, newNamespace())
			p := newSeedProxy(t, cfg)
			for prompt, want := range map[string]string{"baking recipes": "cooking", "baking bread and cakes at home": "CATCHALL"} {
				l2 := vectorstore.Distance(vectorstore.Euclidean, aiproxytest.BagOfWords(prompt, 256), aiproxytest.BagOfWords(desc, 256))
				d, err := p.Explain(context.Background(), prompt)
				require.NoError(t, err)
				assert.InDelta(t, l2, d.Distance, 1e-5, "the L2 distance: %s", prompt)
				assert.Equal(t, want == "cooking", d.Matched, prompt)

				rec, model := chat(t, p, prompt)
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				assert.Equal(t, want, model, prompt)
				assert.Equal(t, strconv.FormatFloat(d.Distance, 'f', 4, 64), rec.Header().Get(aiproxy.HeaderSemanticDistance), "the header is Explain's distance")
				assert.Equal(t, strconv.FormatBool(d.Matched), rec.Header().Get(aiproxy.HeaderSemanticMatched))
			}
		})
	}
}

// A first request whose client leaves while the descriptions are embedded does not make the
// next requests wait out the retry delay on CATCHALL: the next one initialises again.
func TestClientLeavingDuringStartIsNoFailedStart(t *testing.T) {
	var leave atomic.Bool
	leave.Store(true)
	cfg, _ := semanticConfig(t, 0.5, "cooking recipes baking", "CATCHALL")
	cfg.Embedder = aiproxy.EmbedderFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		if leave.Load() {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return bagOfWords(ctx, texts)
	})
	p := newSeedProxy(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/chat/completions",
		strings.NewReader(`{"messages":[{"role":"user","content":"baking recipes"}]}`)))
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code, rec.Body.String())
	leave.Store(false)
	_, model := chat(t, p, "baking recipes")
	assert.Equal(t, "cooking", model, "routed at once, not sent to CATCHALL for the retry delay")
}
