// Package mdtable writes the GitHub-flavoured Markdown tables the lab's
// summaries and report are made of, so every table is built one way.
package mdtable

import "strings"

// Header returns a table's header line and its separator line, one column
// per name.
func Header(cols ...string) string {
	var b strings.Builder
	b.WriteString(Row(cols...))
	b.WriteString("|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	return b.String()
}

// Row returns one table line. A cell's "|" and newlines are escaped so
// they cannot break the table.
func Row(cells ...string) string {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" ")
		b.WriteString(Cell(c))
		b.WriteString(" |")
	}
	b.WriteString("\n")
	return b.String()
}

// Cell escapes text for a table cell.
func Cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r", ""), "\n", " ")
}

// With returns first followed by rest, for a header or row that starts
// with a label and continues with one cell per strategy.
func With(first string, rest []string) []string {
	return append([]string{first}, rest...)
}
