package mdtable

import (
	"fmt"
	"math"
)

// Millis renders a time in milliseconds with the precision it deserves:
// "<0.1 ms", "3.2 ms", "41 ms", "1.25 s", "12 s"; "n/a" when it is not
// finite.
func Millis(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
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

// Thousands renders n with thousands separators ("192,530").
func Thousands(n int) string {
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
