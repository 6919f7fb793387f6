package rig

import (
	"fmt"
	"sync"
	"time"

	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	"go.yaml.in/yaml/v3"
)

// koanfYAML is a koanf.Parser identical to github.com/knadh/koanf/parsers/yaml
// (yaml.Unmarshal into map[string]any; yaml.Marshal back). That module is
// not in go.mod; go.yaml.in/yaml/v3 is, and the parser is those four lines.
type koanfYAML struct{}

var _ koanf.Parser = koanfYAML{}

func (koanfYAML) Unmarshal(b []byte) (map[string]any, error) {
	var out map[string]any
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (koanfYAML) Marshal(o map[string]any) ([]byte, error) { return yaml.Marshal(o) }

// startKoanf runs koanf's file provider watch as its README shows:
//
//	f := file.Provider(path); k := koanf.New("."); k.Load(f, parser)
//	f.Watch(func(event any, err error) {
//		if err != nil { log.Printf("watch error: %v", err); return }
//		k = koanf.New("."); k.Load(f, parser)
//	})
//
// The README discards Load's error, so after a failed load the program
// serves the fresh, empty koanf; the column reports exactly that (and the
// error, as a rejected read). A non-nil err in the callback means the
// provider's watch loop has ended (every error path in providers/file
// breaks out of it, knadh/koanf#271).
func startKoanf(path string, emit func(Observation)) (Running, error) {
	f := file.Provider(path)
	k := koanf.New(".")
	if err := k.Load(f, koanfYAML{}); err != nil {
		return nil, fmt.Errorf("koanf: Load: %w", err)
	}
	var mu sync.Mutex // the README's global k; only the callback uses it here
	err := f.Watch(func(event any, err error) {
		now := time.Now().UnixNano()
		if err != nil {
			emit(Observation{T: now, Col: ColKoanf, Kind: ObsError, Msg: "watch error: " + err.Error() + " (the provider's watch loop has ended: no further reloads)"})
			return
		}
		mu.Lock()
		defer mu.Unlock()
		k = koanf.New(".")
		lerr := k.Load(f, koanfYAML{})
		if lerr != nil {
			emit(Observation{T: now, Col: ColKoanf, Kind: ObsRejected, Msg: "Load: " + lerr.Error()})
		}
		emit(Observation{T: time.Now().UnixNano(), Col: ColKoanf, Kind: ObsApply, AfterError: lerr != nil,
			Msg: fmt.Sprint("Watch callback ", event), State: StateOfMap(k.All())})
	})
	if err != nil {
		return nil, fmt.Errorf("koanf: Watch: %w", err)
	}
	return peerColumn{stop: func() { f.Unwatch() }}, nil
}
