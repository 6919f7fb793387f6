//go:build !linux

package trigger

// isMountPoint reports false: mount IDs are read on Linux only.
func isMountPoint(string) bool { return false }
