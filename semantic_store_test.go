package aiproxy_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/secret"
	pgvectorstore "github.com/aiproxy/aiproxy/vectorstore/pgvector"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

const (
	programmingDesc = "programming, coding, software development, Python, JavaScript, APIs, debugging"
	mathDesc        = "mathematics, algebra, calculus, trigonometry, equations, integrals, derivatives, theorems"
	cookingDesc     = "cooking, recipes, baking, ingredients, cuisine, kitchen, food preparation"
)

// TestChangedDescriptionReplacesItsVector: a restart with a changed description, against
// the same namespace, routes by the new description; the old vector is never matched.
func TestChangedDescriptionReplacesItsVector(t *testing.T) {
	const flask = "How can I build a REST API using Flask?"
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			ns := newNamespace()
			ups := fakes(t, "gpt-3.5-turbo", "gpt-4o", "mistral-tiny")
			before := seedConfig(t, "seed000-deck.yaml", store, ns, ups)
			p1 := newSeedProxy(t, before)
			_, model := chat(t, p1, flask)
			require.Equal(t, "gpt-3.5-turbo", model)
			require.NoError(t, p1.Close())

			after := seedConfig(t, "seed000-deck.yaml", store, ns, ups)
			after.Targets[0].Description = cookingDesc // was programming
			p2 := newSeedProxy(t, after)
			rec, model := chat(t, p2, flask)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "mistral-tiny", model, "the stale programming vector must not match")
			_, model = chat(t, p2, "Give me a recipe for baking bread with simple ingredients")
			assert.Equal(t, "gpt-3.5-turbo", model)

			d, err := p2.Explain(context.Background(), flask)
			require.NoError(t, err)
			var descs []string
			for _, s := range d.Scores {
				descs = append(descs, s.Description)
			}
			assert.ElementsMatch(t, []string{cookingDesc, mathDesc}, descs)
			assert.Equal(t, 3, store.count(t, ns), "the namespace holds the old vector and the two current ones")
		})
	}
}

// renamedOffline is the offline embedder under another name: another embedding space
// whose name extends the offline one's, with vectors of the same length in the same store.
type renamedOffline struct{ *offline.Embedder }

func (e renamedOffline) Name() string { return e.Embedder.Name() + ":renamed" }

// TestPruneStaleDeletesChangedDescriptionsVectors: with PruneStale, a restart with a changed
// description deletes the old description's vector, and only it: the vectors of another
// embedding space in the same namespace stay.
func TestPruneStaleDeletesChangedDescriptionsVectors(t *testing.T) {
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			ns := newNamespace()
			ups := fakes(t, "gpt-3.5-turbo", "gpt-4o", "mistral-tiny")
			other := seedConfig(t, "seed000-deck.yaml", store, ns, ups)
			other.Embedder = renamedOffline{offline.New()}
			_, model := chat(t, newSeedProxy(t, other), "What is the derivative of sin(x)?")
			require.Equal(t, "gpt-4o", model)
			_, model = chat(t, newSeedProxy(t, seedConfig(t, "seed000-deck.yaml", store, ns, ups)), "What is the derivative of sin(x)?")
			require.Equal(t, "gpt-4o", model)
			require.Equal(t, 4, store.count(t, ns), "two descriptions in each of two embedding spaces")

			logs := &lockedBuffer{}
			after := seedConfig(t, "seed000-deck.yaml", store, ns, ups)
			after.Targets[0].Description = cookingDesc // was programming
			after.VectorDB.PruneStale, after.Logger = true, logs.logger()
			p := newSeedProxy(t, after)
			_, model = chat(t, p, "Give me a recipe for baking bread with simple ingredients")
			assert.Equal(t, "gpt-3.5-turbo", model)
			assert.Equal(t, 4, store.count(t, ns), "the programming vector replaced by the cooking one; the other space's two kept")
			assert.Contains(t, logs.String(), "count=1")

			_, model = chat(t, newSeedProxy(t, other), "How can I build a REST API using Flask?")
			assert.Equal(t, "gpt-3.5-turbo", model, "the other space still routes by its programming vector")
		})
	}
}

// TestProxiesShareAStore: two Proxies (replicas) on one namespace store each description
// once and route alike.
func TestProxiesShareAStore(t *testing.T) {
	for _, store := range stores {
		t.Run(store.name, func(t *testing.T) {
			ns := newNamespace()
			ups := fakes(t, "gpt-3.5-turbo", "gpt-4o", "mistral-tiny")
			a := newSeedProxy(t, seedConfig(t, "seed000-deck.yaml", store, ns, ups))
			b := newSeedProxy(t, seedConfig(t, "seed000-deck.yaml", store, ns, ups))
			for _, sp := range seed000Prompts {
				_, ma := chat(t, a, sp.prompt)
				_, mb := chat(t, b, sp.prompt)
				assert.Equal(t, sp.model, ma, sp.prompt)
				assert.Equal(t, sp.model, mb, sp.prompt)
			}
			assert.Equal(t, 2, store.count(t, ns), "one vector per description, shared")
		})
	}
}

// TestStoreCredentialsFromVault: pgvector's user and password may be references; they are
// resolved through the Proxy's vaults, and a value that came from a vault never appears in
// an error, a log line or a response, even when the database quotes it.
func TestStoreCredentialsFromVault(t *testing.T) {
	cfgWithUser := func(t *testing.T, user string, logs *lockedBuffer) (*aiproxy.Proxy, aiproxy.Config) {
		ups := fakes(t, "gpt-3.5-turbo", "gpt-4o", "mistral-tiny")
		cfg := seedConfig(t, "seed000-deck.yaml", stores[3], newNamespace(), ups)
		pg := cfg.VectorDB.Store.(*pgvectorstore.Options)
		realUser := string(pg.User)
		pg.User = "{vault://db-vault/pg/user}"
		cfg.Vaults["db-vault"] = secret.ResolverFunc(func(_ context.Context, ref aiproxy.SecretRef) (string, error) {
			if user == "" {
				return realUser, nil
			}
			return user, nil
		})
		cfg.Logger = logs.logger()
		return newSeedProxy(t, cfg), cfg
	}

	t.Run("resolved", func(t *testing.T) {
		p, _ := cfgWithUser(t, "", &lockedBuffer{})
		_, model := chat(t, p, "What is the derivative of sin(x)?")
		assert.Equal(t, "gpt-4o", model)
	})
	t.Run("never shown", func(t *testing.T) {
		const leaky = "leaky_vault_user_7f3a"
		logs := &lockedBuffer{}
		p, cfg := cfgWithUser(t, leaky, logs)
		_, err := p.Explain(context.Background(), "What is the derivative of sin(x)?")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "[redacted]", "PostgreSQL names the role; the name is redacted")
		rec, model := chat(t, p, "What is the derivative of sin(x)?")
		assert.Equal(t, "mistral-tiny", model, "a store that cannot be opened routes to CATCHALL")
		assert.Contains(t, logs.String(), "CATCHALL")
		for what, text := range map[string]string{"error": err.Error(), "log": logs.String(), "response": rec.Body.String(),
			"config": fmtAll(cfg.VectorDB, cfg.VectorDB.Store)} {
			assert.NotContains(t, text, leaky, what)
		}
	})
	t.Run("literal credentials", func(t *testing.T) { // every fmt verb, JSON and slog redact them
		const pw = "literal-pw-51c2"
		redis := &redisstore.Options{Username: "svc", Password: pw, SentinelPassword: pw}
		pg := &pgvectorstore.Options{User: "svc", Password: pw}
		db := &aiproxy.VectorDBConfig{Strategy: "redis", Store: redis}
		cfg := &aiproxy.Config{VectorDB: db, Embeddings: &aiproxy.EmbeddingsConfig{Auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: pw}}}
		out := fmtAll(db, *redis, redis, *pg, pg, cfg, *cfg)
		assert.NotContains(t, out, pw)
		assert.NotContains(t, out, "svc")
		assert.Contains(t, out, "[redacted]")
	})
}
