package ledger

import (
	"slices"
)

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// uniq returns s without repeats, in first-seen order.
func uniq(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
