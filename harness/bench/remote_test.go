package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/target"
)

// netnsServerEnv makes TestNetnsHelperServer serve on the address it
// names: the remote test re-executes this test binary inside a network
// namespace with it set.
const netnsServerEnv = "RELOADLAB_NETNS_SERVER"

// netnsServerLifetime bounds the helper server's life, whatever happens to
// the test that started it.
const netnsServerLifetime = 2 * time.Minute

// TestNetnsHelperServer is not a test: re-executed by TestRemoteTargetOverVeth
// inside its network namespace, it serves {"version":N} with the version
// header and bumps N on POST /reload, until killed or netnsServerLifetime.
func TestNetnsHelperServer(t *testing.T) {
	addr := os.Getenv(netnsServerEnv)
	if addr == "" {
		t.Skip("helper process of TestRemoteTargetOverVeth; runs only when re-executed by it")
	}
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	var version atomic.Int64
	version.Store(1)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/reload" {
			fmt.Fprintf(w, "%d\n", version.Add(1))
			return
		}
		v := strconv.FormatInt(version.Load(), 10)
		w.Header().Set(target.DefaultVersionHeader, v)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"version":` + v + `}`))
	})}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	go func() {
		time.Sleep(netnsServerLifetime)
		srv.Close()
	}()
	srv.Serve(ln)
}

// TestRemoteTargetOverVeth benches a service the harness did not start,
// over a real network path: a server inside a network namespace this test
// creates, reached over a veth pair with addresses of 10.213.X.0/30, and
// changed by POSTing its reload URL. The namespace and the veth are
// deleted in every case. Needs root and iproute2's ip.
func TestRemoteTargetOverVeth(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace and a veth pair")
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("needs iproute2's ip command: " + err.Error())
	}
	run := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, ip, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	var rnd [4]byte
	_, err = rand.Read(rnd[:])
	require.NoError(t, err)
	id := hex.EncodeToString(rnd[:])
	ns, hostIf, nsIf := "reloadlab-test-"+id, "rlh"+id, "rln"+id // interface names ≤ 15 bytes
	subnet := freeSubnet(t, int(rnd[0]))
	hostAddr, nsAddr := fmt.Sprintf("10.213.%d.1", subnet), fmt.Sprintf("10.213.%d.2", subnet)

	if err := run("netns", "add", ns); err != nil {
		t.Skipf("cannot create a network namespace here: %v", err)
	}
	t.Cleanup(func() {
		// The veth pair goes with either end; delete both ways so that a
		// failure half-way leaves nothing behind.
		run("link", "del", hostIf)
		if err := run("netns", "del", ns); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if err := run("link", "show", hostIf); err == nil {
			t.Errorf("cleanup: %s still exists", hostIf)
		}
	})
	for _, args := range [][]string{
		{"link", "add", hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", ns},
		{"addr", "add", hostAddr + "/30", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"-n", ns, "addr", "add", nsAddr + "/30", "dev", nsIf},
		{"-n", ns, "link", "set", nsIf, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	} {
		require.NoError(t, run(args...))
	}

	// The server: this test binary, re-executed inside the namespace.
	srv := exec.Command(ip, "netns", "exec", ns, os.Args[0], "-test.run=^TestNetnsHelperServer$", "-test.v")
	srv.Env = append(os.Environ(), netnsServerEnv+"="+nsAddr+":8080")
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := srv.StdoutPipe()
	require.NoError(t, err)
	srv.Stderr = os.Stderr
	require.NoError(t, srv.Start())
	t.Cleanup(func() {
		srv.Process.Kill()
		srv.Wait()
	})
	base := ""
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(30*time.Second, func() { srv.Process.Kill() })
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			base = u
			break
		}
	}
	deadline.Stop()
	require.Equal(t, "http://"+nsAddr+":8080", base, "the helper server did not start")
	go func() { // keep draining the helper's output
		for sc.Scan() {
		}
	}()

	dir := filepath.Join(t.TempDir(), RemoteName)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{TargetURL: base + "/", ReloadURL: base + "/reload", Duration: 3 * time.Second, ReloadEvery: 250 * time.Millisecond,
		Out: dir, Log: testLog{t}, CommandLine: "test"})
	require.NoError(t, err)
	checkExternal(t, dir, rep, RemoteName, target.KindRemote)
	s := rep.Summary
	es := s.External
	assert.Equal(t, base+"/", es.URL)
	assert.Equal(t, "reload-url", es.Method)
	assert.Equal(t, int64(1), es.InitialVersion)
	assert.Equal(t, es.Changes, es.Served, "every POST /reload is served")
	assert.Zero(t, es.ChangeErrors)
	assert.Zero(t, s.Errors.Failed, "a Go server that swaps an integer fails no request")
	assert.Nil(t, es.TargetCPU, "a remote target's CPU is not ours to read")
	assert.Contains(t, strings.Join(s.NotAvailable, "\n"), "not available for a remote target")
	assert.Empty(t, s.TargetCPUs)
}

// freeSubnet returns an x for 10.213.x.0/30, starting from start, that no
// interface of this host's namespace uses.
func freeSubnet(t *testing.T, start int) int {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for i := range 256 {
		x := (start + i) % 256
		_, cidr, _ := net.ParseCIDR(fmt.Sprintf("10.213.%d.0/24", x))
		used := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && cidr.Contains(ipn.IP) {
				used = true
			}
		}
		if !used {
			return x
		}
	}
	t.Skip("every 10.213.x.0/24 is in use here")
	return 0
}
