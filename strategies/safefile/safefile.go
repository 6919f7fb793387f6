// Package safefile reads a config file without trusting the file system:
// whatever sits at the path (a FIFO, a directory, a device, a symlink loop,
// a file growing while it is read, a huge file) the read ends promptly with
// either the complete content or an error that says what was there.
//
// # Linux notes
//
// The file is opened with O_NONBLOCK, so opening a FIFO with no writer does
// not block; it is then rejected by the regular-file check on the open
// descriptor (not on a separate stat of the path, which could race with a
// rename). A read of a FIFO never happens. Other Unix systems behave the
// same; on platforms without O_NONBLOCK (Windows, which has no FIFOs on a
// file-system path) the file is opened read-only.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// DefaultLimit is the size limit reloadlab applies to config files: 64 MiB.
const DefaultLimit = 64 << 20

// ErrNotRegular is wrapped by Read when the path is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by Read when the file is larger than the limit.
var ErrTooLarge = errors.New("file exceeds the size limit")

// Read returns the content of the regular file at path (following symlinks),
// or an error if it is not a regular file, is larger than limit bytes (limit
// <= 0 means DefaultLimit), or cannot be opened or read. Errors name the
// path and the cause.
func Read(path string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("safefile: open: %w", explain(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safefile: stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("safefile: %s: %w (%s)", path, ErrNotRegular, modeName(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("safefile: %s: %w (%d > %d bytes)", path, ErrTooLarge, fi.Size(), limit)
	}
	buf := make([]byte, 0, fi.Size()+512)
	for {
		if int64(len(buf)) > limit {
			return nil, fmt.Errorf("safefile: %s: %w (grew past %d bytes while being read)", path, ErrTooLarge, limit)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("safefile: read %s: %w", path, err)
		}
	}
}

// explain adds a plain-words cause to the errors a config path commonly
// produces, keeping the original error wrapped.
func explain(err error) error {
	switch {
	case errors.Is(err, syscall.ELOOP):
		return fmt.Errorf("%w (symlink loop)", err)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w (missing file)", err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w (permission denied)", err)
	}
	return err
}

func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "mode " + m.String()
}
