package state

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"pgregory.net/rapid"
)

// TestUUIDKey: an id is a key exactly when it is a UUID spelt as
// uuid.UUID.String spells it (lower case, with hyphens).
func TestUUIDKey(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var u uuid.UUID
		copy(u[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "bytes"))
		id := u.String()
		if k, ok := uuidKey(id); !ok || k != u {
			t.Fatalf("uuidKey(%q) = %x, %v; want %x, true", id, k[:], ok, u[:])
		}
		upper := strings.ToUpper(id)
		if _, ok := uuidKey(upper); ok != (upper == id) {
			t.Fatalf("uuidKey(%q) = %v, want %v", upper, ok, upper == id)
		}
		// Any other spelling of 36 characters that uuid.Parse may accept.
		other := []byte(id)
		i := rapid.IntRange(0, 35).Draw(t, "at")
		other[i] = rapid.SampledFrom([]byte("0123456789abcdefABCDEF-{}x")).Draw(t, "byte")
		p, err := uuid.Parse(string(other))
		want := err == nil && p.String() == string(other)
		if _, ok := uuidKey(string(other)); ok != want {
			t.Fatalf("uuidKey(%q) = %v, want %v", other, ok, want)
		}
	})
}
