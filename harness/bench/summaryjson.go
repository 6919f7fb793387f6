package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// MarshalJSON encodes the summary; for an external target the fields it
// cannot fill (externalNulls, listed in NotAvailable) are written as null,
// never as zeros.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary // no methods: no recursion
	b, err := json.Marshal(plain(s))
	if err != nil || s.External == nil {
		return b, err
	}
	return NullJSONKeys(b, externalNulls...)
}

// NullJSONKeys sets the values at paths of a JSON object to null and
// returns the object re-encoded (keys sorted). A path is dot-separated
// keys, descending into every element of an array on the way; "**" as the
// next-to-last element matches the last key at any depth below. Paths
// that do not exist are ignored. Numbers keep their exact text.
func NullJSONKeys(data []byte, paths ...string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("bench: null JSON keys: %w", err)
	}
	for _, p := range paths {
		nullPath(v, strings.Split(p, "."))
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("bench: null JSON keys: %w", err)
	}
	return out, nil
}

func nullPath(v any, parts []string) {
	if len(parts) == 0 {
		return
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			nullPath(e, parts)
		}
	case map[string]any:
		switch {
		case parts[0] == "**" && len(parts) == 2:
			nullEverywhere(x, parts[1])
		case len(parts) == 1:
			if _, ok := x[parts[0]]; ok {
				x[parts[0]] = nil
			}
		default:
			nullPath(x[parts[0]], parts[1:])
		}
	}
}

func nullEverywhere(v any, key string) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			nullEverywhere(e, key)
		}
	case map[string]any:
		for k, e := range x {
			if k == key {
				x[k] = nil
				continue
			}
			nullEverywhere(e, key)
		}
	}
}
