package ledger

import (
	"fmt"
	"slices"
)

// fmtMS formats milliseconds for prose.
func fmtMS(v float64) string {
	switch {
	case !fin(v):
		return "n/a"
	case v < 0.1:
		return "<0.1 ms"
	case v >= 10000:
		return fmt.Sprintf("%.0f s", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f ms", v)
	default:
		return fmt.Sprintf("%.1f ms", v)
	}
}

// fmtInt formats an integer with thousands separators.
func fmtInt(n int) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

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
