package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/aiproxy/aiproxy"
)

// explain prints the semantic balancer's decision for a prompt, for each semantic plugin:
// every description's distance, the threshold and the targets chosen. Nothing is sent to
// the targets; the embeddings model (or the offline embedder) and the vector store are used.
func explain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("route", `-config FILE [-config FILE ...] [flags] "PROMPT"`, stderr)
	var cf configFlags
	cf.register(flags)
	if err := flags.Parse(args); err != nil {
		return err
	}
	prompt := strings.Join(flags.Args(), " ")
	if prompt == "" {
		flags.Usage()
		return errors.New("route needs a prompt")
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: withoutTime}))
	g, err := build(cf.loadOptions(logger))
	if err != nil {
		return err
	}
	defer g.close()
	n := 0
	for _, p := range g.plugins {
		if p.cfg.Balancer.Algorithm != aiproxy.Semantic {
			continue
		}
		d, err := p.proxy.Explain(ctx, prompt)
		if err != nil {
			return fmt.Errorf("%s: %w", p.where, err)
		}
		if n++; n > 1 {
			fmt.Fprintln(stdout)
		}
		printDecision(stdout, p, d)
	}
	if n == 0 {
		return errors.New("no plugin to serve uses the semantic balancer (balancer.algorithm: semantic)")
	}
	return nil
}

// printDecision prints d, the decision of p's semantic balancer.
func printDecision(out io.Writer, p *plugin, d *aiproxy.Decision) {
	metric := "cosine"
	if db := p.cfg.VectorDB; db != nil && db.DistanceMetric != "" {
		metric = string(db.DistanceMetric)
	}
	limit, ok := threshold(p.cfg.VectorDB)
	fmt.Fprintf(out, "%s on %s\n", p.where, strings.Join(p.paths, ", "))
	if ok {
		fmt.Fprintf(out, "threshold: %.4f (%s distance: a description matches at or below it)\n", limit, metric)
	} else {
		fmt.Fprintf(out, "threshold: none (%s distance: the nearest description always matches)\n", metric)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  distance\tdescription\ttargets")
	for _, s := range d.Scores {
		mark := ""
		if s.Distance <= limit {
			mark = " ✓"
		}
		fmt.Fprintf(tw, "  %.4f%s\t%s\t%s\n", s.Distance, mark, shorten(s.Description, 60), strings.Join(s.Targets, ", "))
	}
	tw.Flush()
	if d.Matched {
		targets := ""
		if len(d.Scores) > 0 {
			targets = strings.Join(d.Scores[0].Targets, ", ")
		}
		fmt.Fprintf(out, "decision: %q at %.4f → %s\n", shorten(d.Description, 60), d.Distance, targets)
		return
	}
	fmt.Fprintf(out, "decision: nothing within the threshold → CATCHALL: %s\n", strings.Join(catchall(p.cfg.Targets), ", "))
}

// threshold is the largest distance at which a description matches, and false when any does.
func threshold(db *aiproxy.VectorDBConfig) (float64, bool) {
	switch {
	case db == nil:
		return math.Inf(1), false
	case db.Threshold != nil:
		return *db.Threshold, true
	case db.MinSimilarity != nil:
		return 1 - *db.MinSimilarity, true
	}
	return math.Inf(1), false
}

// catchall names the CATCHALL targets, or says there is none.
func catchall(targets []aiproxy.Target) []string {
	var out []string
	for _, t := range targets {
		if strings.TrimSpace(t.Description) == aiproxy.Catchall {
			out = append(out, t.Model.Provider+"/"+t.Model.Name)
		}
	}
	if out == nil {
		return []string{"none (the request would get 400 no_semantic_match)"}
	}
	return out
}

// shorten cuts s to n runes, with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
