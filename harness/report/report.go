package report

import (
	"fmt"
	"path/filepath"

	"github.com/reloadlab/reloadlab/harness/ledger"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/verdict"
)

// Write loads the results under root, and writes REPORT.md to reportPath
// and verdicts.json into root.
func Write(root, reportPath, madeBy string) ([]Claim, []verdict.Verdict, error) {
	in, err := ledger.Load(root)
	if err != nil {
		return nil, nil, err
	}
	claims := ledger.Claims(in)
	vs := append(verdict.FromCompare(in.Compare), verdict.FromDetect(in.Detect)...)
	data, err := verdict.File{MadeBy: madeBy, Verdicts: vs}.Encode()
	if err != nil {
		return nil, nil, err
	}
	md := Markdown(in, claims, vs, verdict.BytesSHA256(data))
	if err := results.WriteFile(filepath.Join(root, "verdicts.json"), data); err != nil {
		return nil, nil, err
	}
	if err := results.WriteFile(reportPath, []byte(md)); err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	return claims, vs, nil
}
