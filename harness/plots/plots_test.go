package plots

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func timeline() Timeline {
	tl := Timeline{Title: "atomic — test", Phases: []Phase{{"throughput", 0, 30}, {"latency", 30, 60}}}
	for x := 0.25; x < 60; x += 0.5 {
		tl.Reloads = append(tl.Reloads, x)
	}
	return tl
}

func series(n int, f func(i int) XY) []XY {
	out := make([]XY, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// check verifies that path is a PNG of a sane size, small, and that
// rendering again gives the same bytes.
func check(t *testing.T, path string, render func(string) error) {
	t.Helper()
	require.NoError(t, render(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, cfg.Width, 900)
	assert.GreaterOrEqual(t, cfg.Height, 500)
	assert.Less(t, len(data), 1<<20, "figure must stay under 1 MiB")
	again := path + ".again.png"
	require.NoError(t, render(again))
	data2, err := os.ReadFile(again)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, data2), "rendering must be deterministic")
	_, err = os.Stat(path + ".tmp")
	assert.True(t, os.IsNotExist(err), "no temporary file left")
}

func TestFigures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if d := os.Getenv("PLOTS_DEMO_DIR"); d != "" {
		dir = d
	}
	big := series(200_000, func(i int) XY { return XY{float64(i) * 60 / 200_000, 0.1 + math.Mod(float64(i)*7.3, 5)} })
	bins := series(600, func(i int) XY { return XY{float64(i) / 10, 20000 + 3000*math.Sin(float64(i)/7)} })
	tests := []struct {
		name   string
		render func(string) error
	}{
		{"latency", func(p string) error { return Latency(p, timeline(), big, bins[:200], bins[200:400]) }},
		{"latency-zeros", func(p string) error {
			return Latency(p, timeline(), []XY{{1, 0}, {2, -1}, {3, math.NaN()}, {4, 1}}, nil, nil)
		}},
		{"latency-empty", func(p string) error { return Latency(p, Timeline{Title: "empty"}, nil, nil, nil) }},
		{"throughput", func(p string) error { return Throughput(p, timeline(), bins) }},
		{"throughput-one", func(p string) error { return Throughput(p, timeline(), []XY{{1, 5}}) }},
		{"gc-pauses", func(p string) error {
			return GCPauses(p, timeline(), series(300, func(i int) XY { return XY{float64(i) / 5, math.Pow(10, float64(i%4))} }))
		}},
		{"gc-pauses-empty", func(p string) error { return GCPauses(p, timeline(), nil) }},
		{"blocked", func(p string) error {
			return Blocked(p, timeline(), Series{"waiting", bins}, Series{"lock-blocked", bins[:10]})
		}},
		{"bars", func(p string) error {
			return Bars(p, "capacity", "req/s", []Bar{{"atomic", 10, 9, 11}, {"lockmap", 8, 7, 9.5}, {"nan", math.NaN(), 0, 0}})
		}},
		{"bars-empty", func(p string) error { return Bars(p, "nothing", "req/s", nil) }},
		{"small-multiples", func(p string) error {
			return SmallMultiples(p, "all strategies", []Row{{"atomic", bins, bins, timeline().Reloads}, {"lockmap", bins, bins, nil}})
		}},
		{"lines", func(p string) error {
			return Lines(p, "apply vs keys", "keys (log scale)", "apply (µs)", []Series{
				{"atomic", []XY{{1000, 1}, {10000, 1}, {100000, 1}}}, {"lockmap", []XY{{1000, 30}, {10000, 400}, {100000, 11000}}}, {"bad", []XY{{0, 1}}}}, true)
		}},
		{"distribution", func(p string) error {
			return Distribution(p, "detection latency", "ms", []Group{{"robust", []float64{100, 110, 120, 130}}, {"poll", []float64{1, 200, 250}}, {"signal", nil}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, filepath.Join(dir, tt.name+".png"), tt.render)
		})
	}
}

func TestThinKeepsBound(t *testing.T) {
	t.Parallel()
	xys, dropped := clean(series(100_001, func(i int) XY { return XY{float64(i), 1} }), true)
	assert.Zero(t, dropped)
	thinned := thin(xys, 1000)
	assert.LessOrEqual(t, len(thinned), 1000)
	assert.Equal(t, xys[0], thinned[0])
}
