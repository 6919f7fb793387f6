package mdtable

import (
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
