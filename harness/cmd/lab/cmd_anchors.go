package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/reloadlab/reloadlab/harness/anchors"
)

// anchorStatus is what runAnchors found or did for one anchor.
type anchorStatus struct {
	name, did, bin, reason string
}

func runAnchors(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("anchors", `Make the external anchors of `+"`lab bench -strategy=nginx|caddy`"+` and
`+"`lab compare -strategies=…,nginx,caddy`"+` available: install nginx (Debian's
nginx-light, or nginx, with apt-get; needs root) and build Caddy `+anchors.CaddyVersion+` into
the user cache (from harness/anchors/caddybuild; needs Go and the module proxy the
first time). What is already there is reused. Where something cannot be done
(not root, no apt-get, no network) it says why and exits 0 with that preset
marked unavailable: benches of it then fail with the same reason.`, stderr)
	cacheDir := fs.String("caddy-cache", "", "where Caddy is built (default: <user cache>/reloadlab/caddy-"+anchors.CaddyVersion+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var st []anchorStatus
	st = append(st, ensureNginx(ctx, stderr))
	st = append(st, ensureCaddy(ctx, *cacheDir, stderr))
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, s := range st {
		if s.reason != "" {
			fmt.Fprintf(stdout, "%s: unavailable: %s (preset -strategy=%s unavailable)\n", s.name, s.reason, s.name)
			continue
		}
		fmt.Fprintf(stdout, "%s: %s: %s\n", s.name, s.did, s.bin)
	}
	return nil
}

// ensureNginx finds nginx or installs it (anchors.Install).
func ensureNginx(ctx context.Context, log io.Writer) anchorStatus {
	s := anchorStatus{name: anchors.NameNginx}
	if bin, err := anchors.FindNginx(); err == nil {
		s.bin, s.did = bin, "already installed"
	} else {
		bin, err := anchors.Install(ctx, log)
		if err != nil {
			s.reason = err.Error()
			if errors.Is(err, context.Canceled) {
				s.reason = "interrupted"
			}
			return s
		}
		s.bin, s.did = bin, "installed with apt-get"
	}
	if v, err := anchors.NginxVersion(ctx, s.bin); err == nil {
		s.did += " (" + v + ")"
	}
	return s
}

// ensureCaddy reuses the cached Caddy or builds it (anchors.BuildCaddy).
func ensureCaddy(ctx context.Context, cacheDir string, log io.Writer) anchorStatus {
	s := anchorStatus{name: anchors.NameCaddy}
	if bin, ok := anchors.CaddyCached(ctx, cacheDir); ok {
		s.bin, s.did = bin, "reused from the cache ("+anchors.CaddyVersion+")"
		return s
	}
	bin, err := anchors.BuildCaddy(ctx, cacheDir, log)
	if err != nil {
		s.reason = err.Error()
		return s
	}
	s.bin, s.did = bin, "built ("+anchors.CaddyVersion+")"
	return s
}
