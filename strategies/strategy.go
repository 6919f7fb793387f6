package strategies

import (
	"fmt"
	"strings"

	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// Strategy is a named store × trigger pair.
type Strategy struct {
	Name        string // preset name, or "<store>+<trigger>" when overridden
	Preset      string // the preset it was resolved from
	Store       string // store name (package store)
	Trigger     string // trigger name (package trigger)
	Description string
}

// presets in presentation order.
var presets = []Strategy{
	{Name: "atomic", Store: "atomic", Trigger: "dirwatch", Description: "atomic.Pointer snapshot swap, directory watch"},
	{Name: "lockmap", Store: "lockmap", Trigger: "dirwatch", Description: "RWMutex map rewritten in place, directory watch"},
	{Name: "lockswap", Store: "lockswap", Trigger: "dirwatch", Description: "RWMutex guarding a snapshot pointer, directory watch"},
	{Name: "syncmap", Store: "syncmap", Trigger: "dirwatch", Description: "sync.Map per-key updates, directory watch"},
	{Name: "lockparse", Store: "lockparse", Trigger: "dirwatch", Description: "RWMutex map, parse and rebuild inside the write lock (the article's 4.4 anti-pattern), directory watch"},
	{Name: "polling", Store: "atomic", Trigger: "pollhash", Description: "atomic snapshot, SHA-256 content polling"},
	{Name: "signal", Store: "atomic", Trigger: "signal", Description: "atomic snapshot, reload on SIGUSR1/SIGHUP"},
	{Name: "robust", Store: "atomic", Trigger: "robust", Description: "atomic snapshot, dirwatch + safety poll + overflow rescan + signals"},
}

// Names returns the preset names.
func Names() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return names
}

// Presets returns a copy of the preset table.
func Presets() []Strategy {
	out := make([]Strategy, len(presets))
	for i, p := range presets {
		p.Preset = p.Name
		out[i] = p
	}
	return out
}

// Lookup returns the named preset, or an error listing the valid names.
func Lookup(name string) (Strategy, error) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, nil
		}
	}
	return Strategy{}, fmt.Errorf("strategies: unknown strategy %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// Resolve returns the named preset with its store and/or trigger replaced by
// storeName and triggerName where those are not empty. Every name is
// checked; an unknown one is an error listing the valid ones. An overridden
// strategy is named "<store>+<trigger>".
func Resolve(name, storeName, triggerName string) (Strategy, error) {
	s, err := Lookup(name)
	if err != nil {
		return Strategy{}, err
	}
	if storeName != "" && storeName != s.Store {
		if _, err := store.New(storeName); err != nil {
			return Strategy{}, err
		}
		s.Store = storeName
	}
	if triggerName != "" && triggerName != s.Trigger {
		if _, err := trigger.New(triggerName); err != nil {
			return Strategy{}, err
		}
		s.Trigger = triggerName
	}
	if p, _ := Lookup(name); p.Store != s.Store || p.Trigger != s.Trigger {
		s.Name = s.Store + "+" + s.Trigger
		s.Description = store.Describe(s.Store) + "; " + trigger.Describe(s.Trigger)
	}
	return s, nil
}

// NewReloader builds the strategy's store and trigger and returns a Reloader
// for the config file at path. Call Start on it.
func (s Strategy) NewReloader(path string, opts ...Option) (*Reloader, error) {
	st, err := store.New(s.Store)
	if err != nil {
		return nil, err
	}
	o := resolveOptions(opts)
	tr, err := trigger.New(s.Trigger, o.triggerOpts...)
	if err != nil {
		return nil, err
	}
	return newReloader(path, st, tr, o), nil
}
