package aiproxy_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/provider"
)

// Semantic routing with ScoreCombined: each target is scored by its examples and their
// words as well as its description, and the threshold is calibrated from the examples.
func Example_combinedScoring() {
	target := func(name, description string, examples ...string) aiproxy.Target {
		return aiproxy.Target{Model: provider.Model{Provider: "openai", Name: name}, Description: description, Examples: examples}
	}
	p, err := aiproxy.New(aiproxy.Config{
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Semantic},
		VectorDB: &aiproxy.VectorDBConfig{Scoring: aiproxy.ScoreCombined},
		Embedder: offline.New(),
		Targets: []aiproxy.Target{
			target("gpt-4o-mini", "weather, forecast, temperature, rain, snow, wind",
				"will it rain tomorrow", "what's the temperature outside", "is it going to snow this weekend",
				"how windy is it today", "do I need an umbrella", "weather forecast for Paris"),
			target("gpt-4o", "music, songs, artists, playlists",
				"play some jazz", "what song is this", "put on my workout playlist", "play the latest album by Adele",
				"skip to the next song", "who sings this track"),
			target("mistral-tiny", aiproxy.Catchall),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	for _, prompt := range []string{"will it be windy in Berlin tomorrow", "play something by the Beatles", "how do I renew my passport"} {
		d, err := p.Explain(context.Background(), prompt)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s (matched %v)\n", prompt, d.Description, d.Matched)
	}
	// Output:
	// will it be windy in Berlin tomorrow: weather, forecast, temperature, rain, snow, wind (matched true)
	// play something by the Beatles: music, songs, artists, playlists (matched true)
	// how do I renew my passport: CATCHALL (matched false)
}
