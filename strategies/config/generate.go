package config

import (
	"strconv"
)

// DefaultPadBytes is the length of the pseudo-random padding Generate appends
// to every value, so a 10k-key file is about 400 KiB, like a real service's
// large config.
const DefaultPadBytes = 16

// KeyName returns the name Generate gives to key i: "key" followed by i with
// at least five digits (key00000 … key99999, then key100000 …).
func KeyName(i int) string {
	return string(appendKeyName(nil, i))
}

func appendKeyName(dst []byte, i int) []byte {
	dst = append(dst, "key"...)
	for w := 10000; w > 1 && i < w; w /= 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(i), 10)
}

// Generate returns a config file of the given version with keys keys, each
// value following the version convention "v<version>-<i>-<padding>". The
// output is deterministic: the same arguments give the same bytes, and two
// versions give different bytes for every value. Parse accepts it.
func Generate(version int64, keys int) []byte {
	return AppendGenerate(make([]byte, 0, 24+keys*(24+DefaultPadBytes)), version, keys, DefaultPadBytes)
}

// AppendGenerate appends to dst what Generate returns, with padBytes bytes of
// padding per value (0 for none).
func AppendGenerate(dst []byte, version int64, keys, padBytes int) []byte {
	dst = append(dst, VersionKey...)
	dst = append(dst, ": "...)
	dst = strconv.AppendInt(dst, version, 10)
	dst = append(dst, '\n')
	for i := 0; i < keys; i++ {
		dst = appendKeyName(dst, i)
		dst = append(dst, `: "`...)
		dst = AppendValue(dst, version, i, padBytes)
		dst = append(dst, "\"\n"...)
	}
	return dst
}

// Value returns the value Generate writes for key i at version, with the
// default padding.
func Value(version int64, i int) string {
	return string(AppendValue(nil, version, i, DefaultPadBytes))
}

// AppendValue appends the generated value of key i at version to dst.
func AppendValue(dst []byte, version int64, i, padBytes int) []byte {
	dst = append(dst, 'v')
	dst = strconv.AppendInt(dst, version, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, int64(i), 10)
	if padBytes > 0 {
		dst = append(dst, '-')
		const hex = "0123456789abcdef"
		x := uint64(version)*0x9e3779b97f4a7c15 ^ uint64(i)*0xbf58476d1ce4e5b9
		for n := 0; n < padBytes; n++ {
			if n%16 == 0 {
				x = splitmix(x)
			}
			dst = append(dst, hex[x>>(60-4*(n%16))&0xf])
		}
	}
	return dst
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// ValueVersion returns the version embedded in a value that follows the
// convention "v<version>-…", and false for any other value.
func ValueVersion(value string) (int64, bool) {
	if len(value) < 3 || value[0] != 'v' {
		return 0, false
	}
	var v int64
	i := 1
	for ; i < len(value) && value[i] >= '0' && value[i] <= '9'; i++ {
		if i > 19 {
			return 0, false
		}
		v = v*10 + int64(value[i]-'0')
	}
	if i == 1 || i >= len(value) || value[i] != '-' {
		return 0, false
	}
	return v, true
}
