module example.com/svc

go 1.26.8

require github.com/reloadlab/reloadlab v0.0.0

require (
	github.com/fsnotify/fsnotify v1.10.1 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/reloadlab/reloadlab => ../../..
