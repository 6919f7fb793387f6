package rig

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/spf13/viper"
)

// startViper runs viper's watcher as its README shows:
//
//	v.SetConfigFile(path); v.ReadInConfig()
//	v.OnConfigChange(func(e fsnotify.Event) { … })
//	v.WatchConfig()
//
// The callback reads what v serves (AllSettings) on viper's own goroutine,
// right after viper's ReadInConfig, so the read does not race. viper's
// slog logger (viper.WithLogger, its documented option; the default
// discards) is captured to learn what viper does not return: a failed
// re-read ("read config file: …", after which viper still calls
// OnConfigChange with the old config), a watcher error (after which its
// watch loop returns), a failed Add (logged; WatchConfig returns as if all
// were well). viper has no way to stop watching (spf13/viper#1404) and
// calls os.Exit(1) when it cannot create a watcher, so it runs only in a
// child process that the lab kills.
func startViper(path string, emit func(Observation)) (Running, error) {
	h := &viperLog{emit: emit}
	v := viper.NewWithOptions(viper.WithLogger(slog.New(h)))
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("viper: ReadInConfig: %w", err)
	}
	v.OnConfigChange(func(e fsnotify.Event) {
		failed := h.takeReadError()
		emit(Observation{T: time.Now().UnixNano(), Col: ColViper, Kind: ObsApply, AfterError: failed,
			Msg: "OnConfigChange " + e.String(), State: StateOfMap(v.AllSettings())})
	})
	v.WatchConfig()
	if msg := h.addError(); msg != "" {
		return nil, fmt.Errorf("viper: WatchConfig returned normally, but logged %q: it will never call OnConfigChange", msg)
	}
	return peerColumn{}, nil
}

// peerColumn is a started peer; close stops what can be stopped.
type peerColumn struct{ stop func() }

// Unchanged is 0: a peer has no content check.
func (peerColumn) Unchanged() uint64 { return 0 }

// Close stops the peer's watch if it can be stopped.
func (c peerColumn) Close() {
	if c.stop != nil {
		c.stop()
	}
}

// viperLog is an slog.Handler that turns viper's error logs into
// observations.
type viperLog struct {
	emit func(Observation)

	mu        sync.Mutex
	readError bool
	addErr    string
}

func (h *viperLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *viperLog) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *viperLog) WithGroup(string) slog.Handler                { return h }

func (h *viperLog) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	now := time.Now().UnixNano()
	switch {
	case strings.HasPrefix(msg, "read config file"):
		h.mu.Lock()
		h.readError = true
		h.mu.Unlock()
		h.emit(Observation{T: now, Col: ColViper, Kind: ObsRejected, Msg: msg})
	case strings.HasPrefix(msg, "failed to add watcher"):
		h.mu.Lock()
		h.addErr = msg
		h.mu.Unlock()
	case strings.HasPrefix(msg, "watcher error"):
		h.emit(Observation{T: now, Col: ColViper, Kind: ObsError, Msg: msg + " (viper's watch loop returns: no further reloads)"})
	default:
		h.emit(Observation{T: now, Col: ColViper, Kind: ObsError, Msg: msg})
	}
	return nil
}

// takeReadError reports and clears whether a re-read failed since the last
// callback.
func (h *viperLog) takeReadError() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.readError
	h.readError = false
	return f
}

func (h *viperLog) addError() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.addErr
}
