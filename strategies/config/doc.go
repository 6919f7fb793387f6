// Package config parses, validates and generates the flat configuration files
// that reloadlab's strategies reload.
//
// # Format
//
// A config file is one YAML document (JSON is accepted, being YAML) holding a
// flat mapping of string keys to scalar values plus an integer version:
//
//	version: 17
//	key00000: "v17-0-3f9a…"
//	key00001: "v17-1-c27e…"
//
// Grammar of the accepted document, informally:
//
//	document = mapping ;  exactly one document per file
//	mapping  = { key ":" scalar } ;  no duplicate keys, no aliases, no merge keys
//	"version" must be present, tagged !!int, and fit in a non-negative int64
//
// Every other value must be a scalar (string, number or boolean); it is kept
// as its literal text. Nested mappings, sequences, nulls, aliases (the YAML
// "billion laughs" vector) and multi-document files are rejected with an
// error that names the offending key and line.
//
// # The version convention
//
// The lab's generator ([Generate]) writes every value as
// "v<version>-<key index>-<padding>", so that a reader can tell which version
// each value it read came from ([ValueVersion]). A config that does not follow
// the convention is still valid; torn-read checks then report "n/a".
//
// # Concurrency
//
// A [Snapshot] is immutable once returned by [Parse]: any number of goroutines
// may call its methods concurrently. Nothing in this package holds global
// mutable state.
package config
