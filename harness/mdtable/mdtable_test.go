package mdtable

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"header", Header("metric", "atomic", "lockmap"), "| metric | atomic | lockmap |\n|---|---|---|\n"},
		{"row", Row("apply", "2.4", "1783 **worse**"), "| apply | 2.4 | 1783 **worse** |\n"},
		{"escaped pipe and newline", Row("a|b", "c\nd"), "| a\\|b | c d |\n"},
		{"with", Row(With("stage", []string{"x", "y"})...), "| stage | x | y |\n"},
		{"empty header", Header(), "|\n|\n"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got, tt.name)
	}
}

func TestFormat(t *testing.T) {
	for v, want := range map[float64]string{0.05: "<0.1 ms", 3.21: "3.2 ms", 41.4: "41 ms", 1250: "1.25 s", 12345: "12 s"} {
		assert.Equal(t, want, Millis(v), v)
	}
	assert.Equal(t, "n/a", Millis(math.NaN()))
	assert.Equal(t, "192,530", Thousands(192530))
	assert.Equal(t, "-1,000", Thousands(-1000))
	assert.Equal(t, "7", Thousands(7))
}
