package main

import "strings"

// stopWords carry no topic: function words, question words, the verbs of asking ("explain",
// "tell me") and the fragments that apostrophes leave ("what's" → "what", "s"). They get
// weight zero.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
a about above after again against all also am an and any are aren as at be because been before
being below between both but by can cannot could couldn d did didn do does doesn doing don down
during each few for from further had hadn has hasn have haven having he her here hers herself him
himself his how i if in into is isn it its itself just ll m me might more most mustn my myself
needn no nor not now o of off on once only or other our ours ourselves out over own re s same
shan she should shouldn so some such t than that the their theirs them themselves then there these
they this those through to too under until up ve very was wasn we were weren what when where which
while who whom why will with won would wouldn y you your yours yourself yourselves
please thanks thank hello hi hey ok okay
explain describe tell give show say know want need like let get got make tell
anything something everything thing things someone somebody anyone way ways
one two many much may might must shall us via etc eg ie
specialist specialists expert experts topic topics question questions problem problems issue issues
query queries request requests task tasks prompt prompts related regarding concerning general assistant
`) {
		m[w] = true
	}
	return m
}()
