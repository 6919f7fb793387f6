package verdict

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/mdtable"
)

// Summary is what one `lab reproduce` found, written as
// results/reproduce/summary.json so that REPORT.md can state it:
//
//	verdicts_sha256   the SHA-256 of the verdicts.json it checked (a report
//	                  whose verdicts differ says the summary is stale)
//	asserted          verdicts marked clear there (the ones that can fail)
//	rechecked         of those, the ones the re-run measured
//	flipped, vanished of those, the ones that failed
//	not_rechecked     the asserted verdicts the re-run did not measure, by id
//	counts            every outcome, for all verdicts
//	results           every verdict with its outcome and the re-run's figures
type Summary struct {
	VerdictsSHA256 string         `json:"verdicts_sha256"`
	Commit         string         `json:"commit"`
	Started        time.Time      `json:"started"`
	Command        string         `json:"command"`
	DetectTrials   int            `json:"detect_trials"` // trials per cell of the detect re-run (0: none)
	Total          int            `json:"total"`
	Asserted       int            `json:"asserted"`
	Rechecked      int            `json:"rechecked"`
	Flipped        int            `json:"flipped"`
	Vanished       int            `json:"vanished"`
	NotRechecked   []string       `json:"not_rechecked"`
	Counts         map[string]int `json:"counts"`
	Results        []Result       `json:"results"`
}

// Summarize counts a check's results.
func Summarize(results []Result) Summary {
	s := Summary{Total: len(results), Counts: map[string]int{}, Results: results, NotRechecked: []string{}}
	for _, r := range results {
		s.Counts[r.Outcome]++
		if !r.Verdict.Clear {
			continue
		}
		s.Asserted++
		if r.Outcome == NotMeasured {
			s.NotRechecked = append(s.NotRechecked, r.Verdict.ID)
			continue
		}
		s.Rechecked++
		switch r.Outcome {
		case Flipped:
			s.Flipped++
		case Vanished:
			s.Vanished++
		}
	}
	sort.Strings(s.NotRechecked)
	return s
}

// Line is the one-line result: "re-checked N of M asserted verdicts; F
// flipped; V vanished".
func (s Summary) Line() string {
	return fmt.Sprintf("re-checked %d of %d asserted verdicts; %d flipped; %d vanished", s.Rechecked, s.Asserted, s.Flipped, s.Vanished)
}

// Err is non-nil when a clear verdict flipped or vanished.
func (s Summary) Err() error {
	if s.Flipped+s.Vanished == 0 {
		return nil
	}
	var ids []string
	for _, r := range s.Results {
		if r.Outcome == Flipped || r.Outcome == Vanished {
			ids = append(ids, r.Verdict.ID+" ("+strings.ToLower(r.Outcome)+")")
		}
	}
	return fmt.Errorf("reproduce: %d clear verdicts flipped and %d vanished: %s", s.Flipped, s.Vanished, strings.Join(ids, ", "))
}

// Markdown renders the summary as results/reproduce/summary.md.
func (s Summary) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# make reproduce\n\nCommand: `%s`, at commit `%s`, started %s. Checked `results/verdicts.json` (SHA-256 `%s`).\n\n**%s.**\n\n",
		s.Command, s.Commit, s.Started.UTC().Format(time.RFC3339), shortHash(s.VerdictsSHA256), s.Line())
	b.WriteString(mdtable.Header("verdict", "asserted", "outcome", "re-run"))
	for _, r := range s.Results {
		b.WriteString(mdtable.Row("`"+r.Verdict.ID+"`", yesNo(r.Verdict.Clear), r.Outcome, r.Detail))
	}
	return b.String()
}

// FileSHA256 returns the hex SHA-256 of a file's bytes.
func FileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("verdict: %w", err)
	}
	return BytesSHA256(data), nil
}

// BytesSHA256 returns the hex SHA-256 of data.
func BytesSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ReadSummary reads a reproduce summary.
func ReadSummary(path string) (*Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("verdict: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("verdict: %s is corrupt: %w", path, err)
	}
	return &s, nil
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
