package blob

import (
	"fmt"
	"strings"
)

// MaxKeyLen is the longest key a Store must accept, in bytes (the limit of
// S3-compatible services).
const MaxKeyLen = 1024

// CheckKey returns nil if key is a valid object key and an error of kind
// ErrInvalidKey otherwise. A valid key is at most MaxKeyLen bytes of
// printable ASCII (0x20 to 0x7e), made of non-empty components separated
// by single slashes, none of which is "." or "..". So a key never starts or
// ends with a slash and never holds a NUL.
func CheckKey(key string) error {
	if reason := keyProblem(key); reason != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, reason)
	}
	return nil
}

func keyProblem(key string) string {
	if key == "" {
		return "empty"
	}
	if len(key) > MaxKeyLen {
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c > 0x7e {
			return fmt.Sprintf("byte 0x%02x at %d is not printable ASCII", c, i)
		}
	}
	for comp := range strings.SplitSeq(key, "/") {
		switch comp {
		case "":
			return "empty component (leading, trailing or double slash)"
		case ".", "..":
			return fmt.Sprintf("%q component", comp)
		}
	}
	return ""
}
