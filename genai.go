package aiproxy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
)

// genaiRoutes are the route types of each genai_category of Kong's schema that names one kind
// of traffic: with it, every target serves a route type of that kind. The text categories
// (text/generation, Kong's default, and text/embeddings) do not constrain route types.
var genaiRoutes = map[string][]provider.RouteType{
	"audio/speech":        {"audio/v1/audio/speech"},
	"audio/transcription": {"audio/v1/audio/transcriptions", "audio/v1/audio/translations"},
	"image/generation":    {"image/v1/images/generations", "image/v1/images/edits"},
	"realtime/generation": {"realtime/v1/realtime"},
	"video/generation":    {routeVideos},
}

// checkCategory checks genai_category against the targets' route types.
func checkCategory(category string, targets []Target) []error {
	switch category {
	case "", "text/generation", "text/embeddings":
		return nil
	}
	routes, ok := genaiRoutes[category]
	if !ok {
		return []error{fmt.Errorf("genai_category %q is not one of text/generation, text/embeddings, audio/speech, audio/transcription, image/generation, realtime/generation, video/generation", category)}
	}
	names := make([]string, len(routes))
	for i, r := range routes {
		names[i] = string(r)
	}
	var errs []error
	for i, t := range targets {
		rt := t.RouteType
		if rt == "" {
			rt = provider.Chat
		}
		if !slices.Contains(routes, rt) {
			errs = append(errs, fmt.Errorf("targets[%d]: route_type %q is not of genai_category %s, whose route types are %s", i, rt, category, strings.Join(names, ", ")))
		}
	}
	return errs
}
