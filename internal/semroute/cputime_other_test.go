//go:build !unix

package semroute

import "time"

// processCPU is not measured here; the benchmarks then report no cpu-ns/op.
func processCPU() time.Duration { return 0 }
