package trigger

// DegradedSink is a Sink that also wants to know when a running trigger
// works with less than its full strength: robust without its directory
// watch (running on its safety poll alone), a platform that cannot deliver
// the signals asked for, a check the platform cannot make. Triggers call
// Degraded from their own goroutines; it must not block.
//
// A Sink that does not implement it still hears about lost watches through
// Error, as before.
type DegradedSink interface {
	Sink
	// Degraded reports how the trigger is degraded, or, with note "", that
	// it is back to full strength.
	Degraded(note string)
}

// degrade tells sink, if it listens, that the trigger is degraded (note) or
// back to full strength ("").
func degrade(sink Sink, note string) {
	if d, ok := sink.(DegradedSink); ok {
		d.Degraded(note)
	}
}
