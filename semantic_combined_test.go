package aiproxy_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/vectorstore"
)

const (
	weatherDesc = "weather, forecast, temperature, rain, snow, wind, sunny"
	musicDesc   = "music, songs, artists, genres, playlists, what song is playing"
)

// combinedConfig routes between a weather and a music target, each with 8 examples, and a
// CATCHALL, with the offline embedder and ScoreCombined.
func combinedConfig(t *testing.T) (aiproxy.Config, *aiproxytest.OpenAI) {
	t.Helper()
	up := aiproxytest.NewOpenAI()
	t.Cleanup(up.Close)
	target := func(name, desc string, examples ...string) aiproxy.Target {
		return aiproxy.Target{Model: provider.Model{Provider: "openai", Name: name, Options: provider.Options{UpstreamURL: up.ChatURL()}},
			Description: desc, Examples: examples}
	}
	return aiproxy.Config{
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Semantic},
		VectorDB: &aiproxy.VectorDBConfig{Scoring: aiproxy.ScoreCombined},
		Embedder: offline.New(),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Targets: []aiproxy.Target{
			target("weather", weatherDesc, "will it rain tomorrow", "what's the temperature outside", "is it going to snow this weekend",
				"how windy is it today", "do I need an umbrella this afternoon", "weather forecast for Paris", "how hot will it be on Saturday",
				"is it sunny in London right now"),
			target("music", musicDesc, "play some jazz", "what song is this", "put on my workout playlist", "play the latest album by Adele",
				"skip to the next song", "I want to hear some classical music", "who sings this track", "shuffle my favourite songs"),
			target("catchall", aiproxy.Catchall),
		},
	}, up
}

// With ScoreCombined and no threshold, the threshold is calibrated from the examples; a
// request through the Handler goes where Explain says, with the distance in the header,
// and Explain shows the signals of every target.
func TestCombinedScoringThroughTheHandler(t *testing.T) {
	cfg, up := combinedConfig(t)
	p := newSeedProxy(t, cfg)
	ctx := context.Background()
	for _, c := range []struct{ prompt, model string }{
		{"will it be cold and windy in Berlin tomorrow", "weather"},
		{"play something by the Beatles", "music"},
		{"how do I file my income tax return", "catchall"},
	} {
		d, err := p.Explain(ctx, c.prompt)
		require.NoError(t, err)
		assert.Greater(t, d.Threshold, 0.0, "calibrated from the examples")
		assert.Less(t, d.Threshold, 1.0, "calibrated from the examples")
		require.Len(t, d.Scores, 2)
		for i, s := range d.Scores {
			assert.InDelta(t, 0.75*(s.Vector+s.Lexical)/2+0.25*s.Classifier, s.Combined, 1e-12, "%s: the signals' weighted mean", c.prompt)
			assert.Greater(t, s.Classifier, 0.0)
			assert.Less(t, s.Classifier, 1.0)
			assert.InDelta(t, 1-(s.Combined-d.Scores[1-i].Combined/2), s.Distance, 1e-12, "%s: less half the other's", c.prompt)
			assert.GreaterOrEqual(t, s.Lexical, 0.0)
			assert.Less(t, s.Lexical, 1.0)
		}
		assert.Equal(t, d.Scores[0].Distance, d.Distance)
		assert.LessOrEqual(t, d.Scores[0].Distance, d.Scores[1].Distance, "nearest first")
		assert.Equal(t, c.model != "catchall", d.Matched, c.prompt)
		assert.Equal(t, d.Distance <= d.Threshold, d.Matched, c.prompt)

		rec, model := chat(t, p, c.prompt)
		assert.Equal(t, c.model, model, c.prompt)
		assert.Equal(t, strconv.FormatFloat(d.Distance, 'f', 4, 64), rec.Header().Get(aiproxy.HeaderSemanticDistance), c.prompt)
		assert.Equal(t, strconv.FormatBool(d.Matched), rec.Header().Get(aiproxy.HeaderSemanticMatched), c.prompt)
	}
	assert.Len(t, up.Requests(), 3)
}

// A configured threshold is a distance on the combined score, and FitThreshold fits it.
func TestCombinedScoringThreshold(t *testing.T) {
	cfg, _ := combinedConfig(t)
	threshold := 0.6
	cfg.VectorDB.Threshold = &threshold
	p := newSeedProxy(t, cfg)
	ctx := context.Background()
	d, err := p.Explain(ctx, "is it raining in Rome")
	require.NoError(t, err)
	assert.Equal(t, threshold, d.Threshold)
	assert.Equal(t, weatherDesc, d.Scores[0].Description)
	assert.Equal(t, d.Distance <= threshold, d.Matched)

	labelled := []aiproxy.LabeledPrompt{
		{Prompt: "how cold will it be tonight", Want: weatherDesc},
		{Prompt: "will there be a storm tomorrow", Want: weatherDesc},
		{Prompt: "play my road trip playlist", Want: musicDesc},
		{Prompt: "turn on some rock music", Want: musicDesc},
		{Prompt: "book a table for two at an Italian restaurant", Want: aiproxy.Catchall},
		{Prompt: "what is the capital of Australia", Want: aiproxy.Catchall},
	}
	fit, err := p.FitThreshold(ctx, labelled)
	require.NoError(t, err)
	assert.Equal(t, 6, fit.Correct, "misses: %+v", fit.Misses)
	for _, l := range labelled {
		d, err := p.Explain(ctx, l.Prompt)
		require.NoError(t, err)
		assert.Equal(t, l.Want, map[bool]string{true: d.Scores[0].Description, false: aiproxy.Catchall}[d.Distance <= fit.Threshold], l.Prompt)
	}
}

// Without examples to calibrate from, and no threshold, every prompt goes to its best
// target, as with Kong's rule and no threshold; a description's comma-separated topics are
// compared one by one.
func TestCombinedScoringWithoutExamples(t *testing.T) {
	cfg, _ := combinedConfig(t)
	for i := range cfg.Targets {
		cfg.Targets[i].Examples = nil
	}
	p := newSeedProxy(t, cfg)
	d, err := p.Explain(context.Background(), "how do I file my income tax return")
	require.NoError(t, err)
	assert.True(t, d.Matched)
	assert.Equal(t, math.Inf(1), d.Threshold)

	d, err = p.Explain(context.Background(), "Snow!")
	require.NoError(t, err)
	assert.Equal(t, weatherDesc, d.Description)
	assert.InDelta(t, 1, d.Scores[0].Vector, 1e-6, "the topic snow, listed in the description, is the nearest text")
}

func TestCombinedScoringRejects(t *testing.T) {
	cfg, _ := combinedConfig(t)
	cfg.VectorDB.DistanceMetric = vectorstore.Euclidean
	_, err := aiproxy.New(cfg)
	assert.ErrorContains(t, err, "cosine")

	cfg, _ = combinedConfig(t)
	cfg.VectorDB.Scoring = "knn"
	_, err = aiproxy.New(cfg)
	assert.ErrorContains(t, err, `unknown Scoring "knn"`)
}

// A restart that finds every vector in the store embeds only prompts, and decides as the
// first run did.
func TestCombinedScoringReusesStoredVectors(t *testing.T) {
	store := vectorstore.NewMemory(vectorstore.Cosine, 0)
	e := offline.New()
	var embedded int
	counting := aiproxy.EmbedderFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		embedded += len(texts)
		return e.Embed(ctx, texts)
	})
	var got []*aiproxy.Decision
	for range 2 {
		cfg, _ := combinedConfig(t)
		cfg.Embedder, cfg.VectorStore = counting, store
		p := newSeedProxy(t, cfg)
		embedded = 0
		d, err := p.Explain(context.Background(), "play something by the Beatles")
		require.NoError(t, err)
		got = append(got, d)
	}
	assert.Equal(t, 1, embedded, "the second start embeds the prompt only")
	assert.Equal(t, got[0], got[1])
}

// Concurrent decisions share the router and its scratch pool: each gets its own answer.
func TestCombinedScoringConcurrent(t *testing.T) {
	cfg, _ := combinedConfig(t)
	p := newSeedProxy(t, cfg)
	prompts := []string{"will it rain in Oslo", "play the new Taylor Swift song", "how do I renew my passport", "is it sunny", "next track please"}
	want := make([]*aiproxy.Decision, len(prompts))
	for i, pr := range prompts {
		d, err := p.Explain(context.Background(), pr)
		require.NoError(t, err)
		want[i] = d
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 20 {
				i := (g + n) % len(prompts)
				d, err := p.Explain(context.Background(), prompts[i])
				if assert.NoError(t, err) {
					assert.Equal(t, want[i], d, prompts[i])
				}
			}
		})
	}
	wg.Wait()
}
