//go:build unix

package safefile

import (
	"os"
	"syscall"
)

// openFlags opens without blocking, so a FIFO with no writer cannot hang
// the open.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
