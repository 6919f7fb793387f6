package safefile

import (
	"fmt"
	"os"
	"time"
)

// readTries is how many times a run reads a file that changes while it is
// read, or is empty, before it takes what it read (empty) or gives up
// (changing: the read is rejected and the old config keeps serving).
const readTries = 3

// emptyRetry is how long a run waits before it reads an empty file again:
// an empty config is most often an in-place writer caught between its
// truncate and its write (the next save of a burst), which takes
// microseconds to milliseconds.
const emptyRetry = 2 * time.Millisecond

// ReadSettled reads path with Read and checks that the file did
// not change while it was read: the same file (inode), size and
// modification time before and after. A trigger that reads at once on a
// writer's close can meet the next writer of a burst truncating and
// rewriting the file; such a read may hold a partial file, so it is read
// again (at most readTries times in all) and never returned. An empty file
// is read again after emptyRetry, and returned as it is if it stays empty.
// The check costs two stat calls.
func ReadSettled(path string, limit int64) ([]byte, error) {
	for try := 1; ; try++ {
		before, berr := os.Stat(path)
		data, err := Read(path, limit)
		if err != nil || berr != nil {
			return data, err
		}
		after, aerr := os.Stat(path)
		settled := aerr == nil && os.SameFile(before, after) && before.Size() == after.Size() && before.ModTime().Equal(after.ModTime())
		switch {
		case settled && (len(data) > 0 || try >= readTries):
			return data, nil
		case try >= readTries:
			return nil, fmt.Errorf("%s changed while it was read, %d times in a row: a writer is at work, and its next save is read again", path, readTries)
		case settled: // empty: perhaps truncated by a writer about to write
			time.Sleep(emptyRetry)
		}
	}
}
