package report

import (
	"fmt"
	"path/filepath"
	"time"

	"reloadlab/harness/results"
	"reloadlab/harness/verdict"
)

// Write loads the results under root, and writes REPORT.md to reportPath
// and verdicts.json into root.
func Write(root, reportPath, madeBy string, now time.Time) ([]Claim, []verdict.Verdict, error) {
	in, err := Load(root)
	if err != nil {
		return nil, nil, err
	}
	claims := Claims(in)
	vs := append(verdict.FromCompare(in.Compare), verdict.FromDetect(in.Detect)...)
	if err := results.WriteJSON(filepath.Join(root, "verdicts.json"), verdict.File{MadeBy: madeBy, Verdicts: vs}); err != nil {
		return nil, nil, err
	}
	if err := results.WriteFile(reportPath, []byte(Markdown(in, claims, vs, now))); err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	return claims, vs, nil
}
