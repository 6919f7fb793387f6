module reloadlab

go 1.26.8

require (
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.6
)

require golang.org/x/sys v0.50.0

require github.com/fsnotify/fsnotify v1.10.1 // indirect
