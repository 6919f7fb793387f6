//go:build !unix

package strategies

import (
	"errors"
	"fmt"
	"runtime"
)

// mkfifo fails: there are no FIFOs on a file-system path here.
func mkfifo(string) error { return fmt.Errorf("no FIFOs on %s", runtime.GOOS) }

// signalSelf fails: SIGUSR1 and SIGHUP cannot be sent here.
func signalSelf(bool) error { return errors.New("no reload signals on " + runtime.GOOS) }
