package etcdcluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/reloadlab/reloadlab/internal/childproc"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// ChildEnv names the environment variable that makes a program re-executed
// by this package run one etcd member (see RunMemberIfChild). Its value is
// the member's settings as JSON.
const ChildEnv = "RELOADLAB_ETCD_MEMBER"

// readyLine is what a member process prints once it serves.
const readyLine = "etcd member ready"

// RunMemberIfChild runs an etcd member and exits when the environment says
// this process is one (ChildEnv set by Start); otherwise it returns at
// once. Call it first thing in main, and in TestMain of a test that starts
// a Cluster.
func RunMemberIfChild() {
	spec := os.Getenv(ChildEnv)
	if spec == "" {
		return
	}
	if err := runMember(spec); err != nil {
		fmt.Fprintln(os.Stderr, "etcd member:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runMember starts the member described by specJSON, says so on stdout,
// and serves until SIGTERM or SIGINT.
func runMember(specJSON string) error {
	var sp memberSpec
	if err := json.Unmarshal([]byte(specJSON), &sp); err != nil {
		return fmt.Errorf("%s: %w", ChildEnv, err)
	}
	cfg := embed.NewConfig()
	cfg.Name = sp.Name
	cfg.Dir = sp.Dir
	client, err := url.Parse(sp.ClientURL)
	if err != nil {
		return err
	}
	peer, err := url.Parse(sp.PeerURL)
	if err != nil {
		return err
	}
	cfg.ListenClientUrls = []url.URL{*client}
	cfg.AdvertiseClientUrls = []url.URL{*client}
	cfg.ListenPeerUrls = []url.URL{*peer}
	cfg.AdvertisePeerUrls = []url.URL{*peer}
	cfg.InitialCluster = sp.InitialCluster
	cfg.InitialClusterToken = sp.Token
	cfg.ClusterState = embed.ClusterStateFlagNew // ignored once the data directory exists
	cfg.ListenMetricsUrls = nil
	cfg.Logger = "zap"
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{sp.LogFile}
	cfg.UnsafeNoFsync = !sp.Fsync
	// Faster elections than the defaults (100 ms heartbeat, 1 s election):
	// the fault experiments measure recovery, and loopback has no jitter.
	cfg.TickMs = 50
	cfg.ElectionMs = 500
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start %s: %w", sp.Name, err)
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
		fmt.Println(readyLine)
	case err := <-e.Err():
		return fmt.Errorf("%s failed before ready: %w", sp.Name, err)
	case <-stop:
		return nil
	}
	select {
	case err := <-e.Err():
		if err != nil {
			return fmt.Errorf("%s: %w", sp.Name, err)
		}
	case <-stop:
	}
	return nil
}

// memberProc is a running member process.
type memberProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startMemberProc re-executes this program as the member spec describes
// and waits until it says it is ready.
func startMemberProc(ctx context.Context, sp memberSpec, timeout time.Duration) (*memberProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to re-execute: %w", err)
	}
	js, err := json.Marshal(sp)
	if err != nil {
		return nil, err
	}
	// -test.run=^$: should the program be a test binary whose TestMain
	// does not call RunMemberIfChild, it then runs no test and exits,
	// instead of running the tests again (and starting members again).
	// RunMemberIfChild returns before any flag is parsed.
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), ChildEnv+"="+string(js))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := childproc.NewTail(20, nil)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start member process: %w", err)
	}
	p := &memberProc{cmd: cmd, done: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		// Read stdout to its end, then Wait: Wait closes the pipe, so it
		// must not run while the pipe is still being read.
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if sc.Text() == readyLine && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
		cmd.Wait()
		close(p.done)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case ok := <-ready:
		if ok {
			return p, nil
		}
		<-p.done
		return nil, fmt.Errorf("member process exited (%v): %s", cmd.ProcessState, strings.TrimSpace(stderr.String()))
	case <-timer.C:
		p.kill()
		return nil, fmt.Errorf("not ready after %v", timeout)
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

// kill sends SIGKILL and waits for the process to be reaped.
func (p *memberProc) kill() {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return
	}
	<-p.done
}
