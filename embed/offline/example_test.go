package offline_test

import (
	"context"
	"fmt"

	"github.com/aiproxy/aiproxy/embed/offline"
)

// Routing by meaning as Kong's semantic balancer does: the nearest description by cosine
// distance wins if the distance is within the threshold, else CATCHALL.
func Example() {
	e := offline.New()
	names := []string{"programming", "mathematics"}
	descs := []string{
		"programming, coding, software development, Python, JavaScript, APIs, debugging",
		"mathematics, algebra, calculus, trigonometry, equations, integrals, derivatives, theorems",
	}
	const threshold = 0.8 // cosine distance, as in Kong's vectordb.threshold
	dv, _ := e.Embed(context.Background(), descs)
	for _, prompt := range []string{
		"How can I build a REST API using Flask?",
		"What's the derivative of sin(x)?",
		"Tell me a fun fact about dolphins",
	} {
		pv, _ := e.Embed(context.Background(), []string{prompt})
		route, best := "CATCHALL", threshold
		for i, d := range dv {
			var dot float32 // vectors have unit length: cosine similarity is the dot product
			for j := range d {
				dot += d[j] * pv[0][j]
			}
			if dist := 1 - float64(dot); dist <= best {
				route, best = names[i], dist
			}
		}
		fmt.Printf("%-12s %s\n", route, prompt)
	}
	// Output:
	// programming  How can I build a REST API using Flask?
	// mathematics  What's the derivative of sin(x)?
	// CATCHALL     Tell me a fun fact about dolphins
}
