package aiproxy

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// In a fleet, each replica's round-robin starts at a random point of the weighted schedule,
// so a fleet of replicas that each serve one request still follows the weights; alone, every
// replica starts with the heaviest target.
func TestFleetRoundRobinStartsAnywhere(t *testing.T) {
	for _, fleet := range []bool{false, true} {
		light, heavy := &target{name: "light", weight: 1}, &target{name: "heavy", weight: 9}
		if fleet {
			light.fleet, heavy.fleet = &fleetTarget{}, &fleetTarget{}
		}
		firsts := map[string]int{}
		for range 1000 { // 1000 replicas, one request each
			pick, _ := newRoundRobin([]*target{light, heavy}).pick(nil)
			firsts[pick.name]++
		}
		if fleet {
			assert.InDelta(t, 100, firsts["light"], 40, "%v", firsts)
		} else {
			assert.Equal(t, 0, firsts["light"], "%v", firsts)
		}
	}
}
