// Command caddybuild is Caddy v2 with its standard modules, built by
// anchors.BuildCaddy as one of the lab's reload anchors. It lives in its own
// module so Caddy's dependency tree stays out of the lab's go.mod.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func main() {
	caddycmd.Main()
}
