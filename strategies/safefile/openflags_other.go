//go:build !unix

package safefile

import "os"

// openFlags is read-only: there is no FIFO on a file-system path to block
// on here.
const openFlags = os.O_RDONLY
