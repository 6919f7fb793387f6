package trigger

// Source is implemented by a trigger that delivers the config itself
// instead of pointing at a file: a key in a config store such as etcd.
// The pipeline reads Current where it would read the file, on every run,
// the initial load included; so a run always applies the newest value the
// trigger knows of, and notices that arrive while a run is in progress
// coalesce into one more run, as they do for files.
type Source interface {
	Trigger
	// Current returns the newest value the trigger has seen. An error (the
	// key was deleted, no value yet) is a rejected run: the config serving
	// stays.
	Current() (Content, error)
}

// Content is a config value delivered by a Source.
type Content struct {
	// Data is the config's bytes.
	Data []byte
	// Revision is the store's revision of the value (etcd: the key's
	// mod_revision), recorded with the run so that replicas' event logs
	// can be checked for order; 0 when the store has none.
	Revision int64
	// Origin names where the value came from ("etcd key /app/config").
	Origin string
}
