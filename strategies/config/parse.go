package config

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// VersionKey is the reserved key that carries the config's integer version.
const VersionKey = "version"

// ErrEmpty is returned by Parse for a file with no YAML document in it.
var ErrEmpty = errors.New("config: empty file (no YAML document)")

// Error is a validation or syntax error, with the line it was found on where
// one is known (Line is 0 otherwise).
type Error struct {
	Line int    // 1-based line in the file, 0 if unknown
	Key  string // offending key, "" if none
	Msg  string // what is wrong
}

func (e *Error) Error() string {
	var b bytes.Buffer
	b.WriteString("config: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse parses and validates one config file's content. The returned
// Snapshot's Hash is the SHA-256 of data. See the package documentation for
// what is accepted; every rejection is an *Error, ErrEmpty, or a wrapped YAML
// syntax error.
func Parse(data []byte) (*Snapshot, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrEmpty
		}
		return nil, fmt.Errorf("config: invalid YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("config: invalid YAML after the first document: %w", err)
		}
		return nil, &Error{Line: extra.Line, Msg: "more than one YAML document in the file"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, ErrEmpty
	}
	root := doc.Content[0]
	if root.Kind == yaml.AliasNode {
		return nil, &Error{Line: root.Line, Msg: "the document is an alias; aliases are not allowed"}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Line: root.Line, Msg: fmt.Sprintf("top level must be a mapping of keys to values, got %s", kindName(root))}
	}

	values := make(map[string]string, len(root.Content)/2)
	version := int64(-1)
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := root.Content[i], root.Content[i+1]
		if kn.Kind != yaml.ScalarNode || kn.ShortTag() == "!!merge" {
			return nil, &Error{Line: kn.Line, Msg: fmt.Sprintf("keys must be plain scalars, got %s", kindName(kn))}
		}
		key := kn.Value
		if key == VersionKey {
			if version >= 0 {
				return nil, &Error{Line: kn.Line, Key: key, Msg: "defined twice"}
			}
			v, err := parseVersion(vn)
			if err != nil {
				return nil, err
			}
			version = v
			continue
		}
		if _, dup := values[key]; dup {
			return nil, &Error{Line: kn.Line, Key: key, Msg: "defined twice"}
		}
		if vn.Kind != yaml.ScalarNode {
			return nil, &Error{Line: vn.Line, Key: key, Msg: fmt.Sprintf("value must be a flat scalar, got %s", kindName(vn))}
		}
		if vn.ShortTag() == "!!null" {
			return nil, &Error{Line: vn.Line, Key: key, Msg: "value is null; flat string values only"}
		}
		values[key] = vn.Value
	}
	if version < 0 {
		return nil, &Error{Key: VersionKey, Msg: "missing: an integer version is required"}
	}
	return NewSnapshot(version, values, sha256.Sum256(data)), nil
}

func parseVersion(n *yaml.Node) (int64, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, &Error{Line: n.Line, Key: VersionKey, Msg: fmt.Sprintf("must be an integer, got %s", kindName(n))}
	}
	if tag := n.ShortTag(); tag != "!!int" {
		if tag == "!!float" && isDigits(strings.TrimPrefix(n.Value, "-")) {
			return 0, &Error{Line: n.Line, Key: VersionKey, Msg: fmt.Sprintf("integer %q does not fit in int64", n.Value)}
		}
		return 0, &Error{Line: n.Line, Key: VersionKey, Msg: fmt.Sprintf("must be an integer, got %s %q", tagName(tag), n.Value)}
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil {
		return 0, &Error{Line: n.Line, Key: VersionKey, Msg: fmt.Sprintf("integer %q does not fit in int64", n.Value)}
	}
	if v < 0 {
		return 0, &Error{Line: n.Line, Key: VersionKey, Msg: fmt.Sprintf("must not be negative, got %d", v)}
	}
	return v, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a nested mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.AliasNode:
		return "an alias (aliases are not allowed)"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!merge" {
			return "a merge key (<<)"
		}
		return tagName(n.ShortTag())
	}
	return "an unknown node"
}

func tagName(tag string) string {
	switch tag {
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a float"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	case "!!binary":
		return "binary data"
	case "!!timestamp":
		return "a timestamp"
	}
	return "a scalar tagged " + tag
}
