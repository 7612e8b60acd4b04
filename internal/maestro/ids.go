package maestro

import (
	"crypto/rand"
	"strconv"
	"time"
)

// ID prefixes of the predecessor's id format `<prefix>_<msEpoch>_<9 base-36 chars>` (SPEC §0).
const (
	PrefixProject  = "proj"
	PrefixTask     = "task"
	PrefixSession  = "sess"
	PrefixEvent    = "evt"
	PrefixTemplate = "tmpl"
)

const base36 = "0123456789abcdefghijklmnopqrstuvwxyz"

// NewID returns a new id in the predecessor's format. The random part has 9 base-36 characters
// (about 46 bits), so ids created in the same millisecond practically never collide; unique
// constraints in the store catch the rest.
func NewID(prefix string, now time.Time) string {
	var raw [9]byte
	if _, err := rand.Read(raw[:]); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ crashes instead), so this is unreachable.
		panic(err)
	}
	buf := make([]byte, 0, len(prefix)+1+13+1+9)
	buf = append(buf, prefix...)
	buf = append(buf, '_')
	buf = strconv.AppendInt(buf, now.UnixMilli(), 10)
	buf = append(buf, '_')
	for _, b := range raw {
		// 252 is the largest multiple of 36 below 256; the tiny modulo bias is irrelevant for ids.
		buf = append(buf, base36[int(b)%36])
	}
	return string(buf)
}
