package reload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// YAML returns a decoder of one YAML document into a T, nested structs,
// maps and slices included (yaml struct tags apply). It is strict, because
// a config typo should be an error, not a silently ignored key: a key with
// no field in T, an empty file, or a second document is an error.
func YAML[T any]() func([]byte) (T, error) {
	return func(data []byte) (T, error) {
		var v T
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				return v, errors.New("yaml: empty document")
			}
			return v, fmt.Errorf("yaml: %w", err)
		}
		var extra yaml.Node
		switch err := dec.Decode(&extra); {
		case errors.Is(err, io.EOF):
		case err != nil:
			return v, fmt.Errorf("yaml: after the first document: %w", err)
		default:
			return v, fmt.Errorf("yaml: line %d: more than one document", extra.Line)
		}
		return v, nil
	}
}

// JSON returns a decoder of one JSON value into a T (json struct tags
// apply). It is strict: a key with no field in T, an empty file, or
// anything after the value is an error.
func JSON[T any]() func([]byte) (T, error) {
	return func(data []byte) (T, error) {
		var v T
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				return v, errors.New("json: empty document")
			}
			return v, fmt.Errorf("json: %w", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return v, errors.New("json: data after the first value")
		}
		return v, nil
	}
}
