package anchors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/reloadlab/reloadlab/internal/childproc"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// nginxSystemPath is where Debian's nginx packages put the binary.
const nginxSystemPath = "/usr/sbin/nginx"

// policyRCPath is the Debian hook that tells maintainer scripts whether
// they may start services; exit status 101 forbids it.
const policyRCPath = "/usr/sbin/policy-rc.d"

// FindNginx returns the path of the nginx binary: the one on PATH, else
// Debian's /usr/sbin/nginx (not on a non-root PATH).
func FindNginx() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if st, err := os.Stat(nginxSystemPath); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return nginxSystemPath, nil
	}
	return "", errors.New("anchors: nginx is not installed (not on PATH, no " + nginxSystemPath + ")")
}

// NginxVersion returns what `bin -v` reports, e.g. "nginx/1.22.1".
func NginxVersion(ctx context.Context, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, "-v").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("anchors: %s -v: %w\n%s", bin, err, out)
	}
	s := strings.TrimSpace(string(out))
	if _, v, ok := strings.Cut(s, "nginx version: "); ok {
		return v, nil
	}
	return s, nil
}

// Install returns the nginx binary, installing Debian's nginx-light (or,
// failing that, nginx) with apt-get when there is none and this process is
// root; it runs `apt-get update` once if the first attempts fail. While it
// installs, a policy-rc.d that forbids starting services keeps the
// package's scripts from starting the system nginx (an existing
// policy-rc.d is left as it is). What it does goes to log (nil: nowhere).
// Without root or apt-get it returns an error saying so.
func Install(ctx context.Context, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	if bin, err := FindNginx(); err == nil {
		fmt.Fprintf(log, "anchors: nginx already installed: %s\n", bin)
		return bin, nil
	}
	if euid := os.Geteuid(); euid != 0 {
		return "", fmt.Errorf("anchors: nginx is not installed and installing it needs root (euid %d)", euid)
	}
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		return "", errors.New("anchors: nginx is not installed and there is no apt-get to install it")
	}
	restore, err := forbidServiceStarts(policyRCPath, log)
	if err != nil {
		return "", err
	}
	defer restore()
	apt := func(args ...string) error {
		fmt.Fprintf(log, "anchors: running apt-get %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, aptGet, args...)
		cmd.Env = envWith(map[string]string{"DEBIAN_FRONTEND": "noninteractive"})
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	var errs []error
	for attempt := range 2 {
		if attempt == 1 {
			if err := apt("update"); err != nil {
				errs = append(errs, err)
				break
			}
		}
		for _, pkg := range []string{"nginx-light", "nginx"} { // smallest first
			if err := apt("install", "-y", "--no-install-recommends", pkg); err != nil {
				errs = append(errs, err)
				continue
			}
			bin, err := FindNginx()
			if err != nil {
				return "", fmt.Errorf("anchors: installed %s but: %w", pkg, err)
			}
			v, _ := NginxVersion(ctx, bin)
			fmt.Fprintf(log, "anchors: installed Debian package %s: %s (%s)\n", pkg, bin, v)
			return bin, nil
		}
	}
	return "", fmt.Errorf("anchors: install nginx: %w", errors.Join(errs...))
}

// forbidServiceStarts writes a policy-rc.d at path that exits 101 when
// there is none and returns what removes it again.
func forbidServiceStarts(path string, log io.Writer) (restore func(), err error) {
	if _, err := os.Lstat(path); err == nil {
		fmt.Fprintf(log, "anchors: %s exists; leaving it as it is\n", path)
		return func() {}, nil
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n# written by reloadlab anchors.Install for one apt-get run\nexit 101\n"), 0o755); err != nil {
		return nil, fmt.Errorf("anchors: write %s: %w", path, err)
	}
	fmt.Fprintf(log, "anchors: wrote %s (exit 101) so the package starts no service\n", path)
	return func() {
		if err := os.Remove(path); err != nil {
			fmt.Fprintf(log, "anchors: remove %s: %v\n", path, err)
			return
		}
		fmt.Fprintf(log, "anchors: removed %s\n", path)
	}, nil
}

// Nginx is a running nginx master (daemon off, one worker) serving the
// anchor endpoint from a generated config in its own directory.
type Nginx struct {
	bin       string
	p         *proc
	port      int
	url       string
	user      string   // the user directive's argument, "" when not root
	tempPaths []string // modules compiled in whose temp path must be moved
	conf      string
	cpus      []int // the master's CPUs; `nginx -t` runs on them too

	mu      sync.Mutex // serialises Reload
	version int64
}

// StartNginx starts nginx as Start(ctx, NameNginx, opts) does.
func StartNginx(ctx context.Context, opts Options) (*Nginx, error) {
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = FindNginx(); err != nil {
			return nil, err
		}
	}
	n := &Nginx{bin: bin, version: opts.InitialVersion, cpus: opts.CPUs}
	var err error
	if n.tempPaths, err = nginxTempModules(ctx, bin); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		n.user = unprivilegedUser()
	}
	if n.port, err = freePort(); err != nil {
		return nil, fmt.Errorf("anchors: nginx: %w", err)
	}
	n.url = "http://127.0.0.1:" + strconv.Itoa(n.port) + "/"
	dir, err := tempDir(opts.WorkDir, NameNginx)
	if err != nil {
		return nil, fmt.Errorf("anchors: nginx: %w", err)
	}
	n.conf = filepath.Join(dir, "nginx.conf")
	if err := n.writeChecked(ctx, dir, opts.InitialVersion, false); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	cmd := exec.Command(bin, "-p", dir+"/", "-c", n.conf, "-e", "stderr")
	cmd.Dir = dir
	if n.p, err = startProc(ctx, cmd, opts.CPUs, dir, opts.Log); err != nil {
		return nil, errors.Join(fmt.Errorf("anchors: nginx: %w", err), os.RemoveAll(dir))
	}
	if err := waitServing(ctx, n.p, n.url, opts.InitialVersion, DefaultStartTimeout); err != nil {
		return nil, errors.Join(fmt.Errorf("anchors: nginx: %w", err), n.p.end(0))
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "anchors: nginx %s pid %d serving %s (CPUs %v)\n", bin, n.p.pid, n.url, opts.CPUs)
	}
	return n, nil
}

// Name returns NameNginx.
func (n *Nginx) Name() string { return NameNginx }

// URL returns the served endpoint.
func (n *Nginx) URL() string { return n.url }

// Pid returns the master's process id.
func (n *Nginx) Pid() int { return n.p.pid }

// Pids returns the master and its workers alive now.
func (n *Nginx) Pids() []int { return groupPids(n.p.pid) }

// Dir returns the directory nginx runs in (its prefix).
func (n *Nginx) Dir() string { return n.p.dir }

// Version returns the version of the last successful Reload.
func (n *Nginx) Version() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.version
}

// Reload writes the config for version, validates it with `nginx -t` and
// sends SIGHUP to the master, which starts new workers with it and lets
// the old ones finish their requests. A config nginx -t rejects is an
// error and is never put in place.
func (n *Nginx) Reload(ctx context.Context, version int64) error {
	return n.reload(ctx, version, false)
}

func (n *Nginx) reload(ctx context.Context, version int64, broken bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.p.running(); err != nil {
		return fmt.Errorf("anchors: nginx reload to %d: %w", version, err)
	}
	if err := n.writeChecked(ctx, n.p.dir, version, broken); err != nil {
		return fmt.Errorf("anchors: nginx reload to %d: %w", version, err)
	}
	if err := n.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("anchors: nginx reload to %d: SIGHUP %d: %w", version, n.p.pid, err)
	}
	n.version = version
	return nil
}

// writeChecked writes the config for version next to n.conf, runs
// `nginx -t` on it and, if nginx accepts it, renames it over n.conf.
func (n *Nginx) writeChecked(ctx context.Context, dir string, version int64, broken bool) error {
	next := n.conf + ".next"
	if err := os.WriteFile(next, n.config(dir, version, broken), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	// The check is part of nginx's reload: it runs on nginx's CPUs, not on
	// the caller's (the lab's load generator).
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, n.bin, "-t", "-q", "-p", dir+"/", "-c", next, "-e", "stderr")
	cmd.Stdout, cmd.Stderr = &out, &out
	err := childproc.WithAffinity(n.cpus, cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		os.Remove(next)
		return fmt.Errorf("nginx -t rejected the config for version %d: %w\n%s", version, err, bytes.TrimSpace(out.Bytes()))
	}
	if err := os.Rename(next, n.conf); err != nil {
		return fmt.Errorf("put config in place: %w", err)
	}
	return nil
}

// config returns nginx.conf for version; broken adds a directive nginx
// does not know.
func (n *Nginx) config(dir string, version int64, broken bool) []byte {
	var b bytes.Buffer
	b.WriteString("# generated by reloadlab harness/anchors\n")
	if n.user != "" {
		fmt.Fprintf(&b, "user %s;\n", n.user)
	}
	fmt.Fprintf(&b, `worker_processes 1;
daemon off;
master_process on;
pid %[1]s/nginx.pid;
error_log stderr warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    server_tokens off;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path %[1]s/client_body;
`, dir)
	for _, m := range n.tempPaths {
		fmt.Fprintf(&b, "    %s_temp_path %s/%s;\n", m, dir, m)
	}
	body := string(RootBody(version))
	fmt.Fprintf(&b, `    server {
        listen 127.0.0.1:%d;
        location = / {
            default_type application/json;
            add_header %s %d always;
            return 200 '%s';
        }
        location / {
            return 404;
        }
`, n.port, VersionHeader, version, body)
	if broken {
		b.WriteString("        reloadlab_no_such_directive on;\n")
	}
	b.WriteString("    }\n}\n")
	return b.Bytes()
}

// Stop shuts nginx down (SIGTERM: the master stops its workers and
// exits), kills what is left after a grace period and removes the
// directory.
func (n *Nginx) Stop() error {
	if err := n.p.end(stopGrace); err != nil {
		return fmt.Errorf("anchors: nginx stop: %w", err)
	}
	return nil
}

// Kill SIGKILLs nginx's process group and removes the directory.
func (n *Nginx) Kill() error {
	if err := n.p.end(0); err != nil {
		return fmt.Errorf("anchors: nginx kill: %w", err)
	}
	return nil
}

// nginxTempModules returns the modules of bin (proxy, fastcgi, uwsgi,
// scgi) that are compiled in and so have a temp path to move out of
// /var/lib/nginx.
func nginxTempModules(ctx context.Context, bin string) ([]string, error) {
	out, err := exec.CommandContext(ctx, bin, "-V").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("anchors: %s -V: %w\n%s", bin, err, out)
	}
	var mods []string
	for _, m := range []string{"proxy", "fastcgi", "uwsgi", "scgi"} {
		if !bytes.Contains(out, []byte("--without-http_"+m+"_module")) {
			mods = append(mods, m)
		}
	}
	return mods, nil
}

// unprivilegedUser returns the user directive's argument for a root
// master: nobody with group nogroup where that group exists.
func unprivilegedUser() string {
	if _, err := user.LookupGroup("nogroup"); err == nil {
		return "nobody nogroup"
	}
	return "nobody"
}
