package maestro

import (
	"unicode/utf8"
)

// Field limits (D19, D11). Text limits are in bytes, title and name limits in characters.
const (
	MaxTitleChars   = 512
	MaxNameChars    = 512
	MaxTextBytes    = 256 << 10
	MaxEnumChars    = 64
	MaxIDChars      = 128
	MaxListItems    = 1000
	MaxBodyBytes    = 1 << 20
	MaxWorkDirChars = 4096
)

// CheckChars returns a VALIDATION_ERROR naming field when s has more than limit characters.
func CheckChars(field, s string, limit int) error {
	if utf8.RuneCountInString(s) > limit {
		return InvalidField(field, "%s must be at most %d characters", field, limit)
	}
	return nil
}

// CheckBytes returns a VALIDATION_ERROR naming field when s is longer than limit bytes.
func CheckBytes(field, s string, limit int) error {
	if len(s) > limit {
		return InvalidField(field, "%s must be at most %d bytes", field, limit)
	}
	return nil
}

// CheckList returns a VALIDATION_ERROR naming field when the list is too long or an item is too long.
func CheckList(field string, items []string, itemLimit int) error {
	if len(items) > MaxListItems {
		return InvalidField(field, "%s must have at most %d items", field, MaxListItems)
	}
	for _, it := range items {
		if utf8.RuneCountInString(it) > itemLimit {
			return InvalidField(field, "each item of %s must be at most %d characters", field, itemLimit)
		}
	}
	return nil
}

// NextStamp returns the next updatedAt/lastActivity for a record whose previous one was prev: now, but
// strictly after prev, so that two updates in the same millisecond still order (D12).
func NextStamp(now, prev int64) int64 {
	if now <= prev {
		return prev + 1
	}
	return now
}

// MaxImportBytes bounds the body of a v2 project import, the one request that carries a whole project
// (its sessions' logs included) and so may well exceed MaxBodyBytes.
const MaxImportBytes = 32 << 20
