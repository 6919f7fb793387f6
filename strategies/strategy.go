package strategies

import (
	"errors"
	"fmt"
	"strings"

	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/strategies/trigger"
	"github.com/reloadlab/reloadlab/strategies/trigger/etcdwatch"
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
	{Name: "etcd", Store: "atomic", Trigger: etcdwatch.Name, Description: "atomic snapshot, the config in one etcd key, applied on its watch events (the article's chapter 4.2)"},
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
		if DescribeTrigger(triggerName) == "" {
			return Strategy{}, fmt.Errorf("strategies: unknown trigger %q (valid: %s)", triggerName, strings.Join(TriggerNames(), ", "))
		}
		s.Trigger = triggerName
	}
	if p, _ := Lookup(name); p.Store != s.Store || p.Trigger != s.Trigger {
		s.Name = s.Store + "+" + s.Trigger
		s.Description = store.Describe(s.Store) + "; " + DescribeTrigger(s.Trigger)
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
	tr, err := newTrigger(s.Trigger, o)
	if err != nil {
		return nil, err
	}
	return newReloader(path, st, tr, o), nil
}

// etcdDescription describes the etcd trigger (package trigger/etcdwatch).
const etcdDescription = "watch one etcd key; the value is the config (a trigger.Source), resumed from the last revision after a disconnect, re-read after a compaction"

// TriggerNames returns every trigger a strategy can use: the file
// triggers of package trigger, then etcd.
func TriggerNames() []string { return append(trigger.Names(), etcdwatch.Name) }

// DescribeTrigger returns a one-line description of the named trigger, or
// "" when there is none of that name.
func DescribeTrigger(name string) string {
	if name == etcdwatch.Name {
		return etcdDescription
	}
	return trigger.Describe(name)
}

// newTrigger builds the named trigger. The etcd trigger needs WithEtcd.
func newTrigger(name string, o options) (trigger.Trigger, error) {
	if name != etcdwatch.Name {
		return trigger.New(name, o.triggerOpts...)
	}
	if o.etcdKey == "" || (len(o.etcdEndpoints) == 0 && o.etcdClient == nil) {
		return nil, errors.New("strategies: the etcd trigger needs endpoints and a key (WithEtcd)")
	}
	var eo []etcdwatch.Option
	if o.etcdClient != nil {
		eo = append(eo, etcdwatch.WithClient(o.etcdClient))
	}
	return etcdwatch.New(o.etcdEndpoints, o.etcdKey, eo...), nil
}
