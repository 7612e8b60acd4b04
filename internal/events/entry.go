package events

import (
	"sync"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// EncodingSlots is how many encodings of an event an Entry can cache: one per wire format.
const EncodingSlots = 2

// Entry is one event as handed to subscribers. A live event is one Entry shared by every subscriber, so
// an encoding computed once with Encoded serves all of them: with a thousand sockets, the envelope is
// marshalled once, not a thousand times.
type Entry struct {
	maestro.Event
	enc [EncodingSlots]struct {
		once sync.Once
		b    []byte
	}
}

// Encoded returns the event encoded by encode, computing it on the first call for that slot. Each wire
// format uses its own slot (0 ≤ slot < EncodingSlots) and always the same encode function.
func (e *Entry) Encoded(slot int, encode func(*maestro.Event) []byte) []byte {
	c := &e.enc[slot]
	c.once.Do(func() { c.b = encode(&e.Event) })
	return c.b
}

// Kind says what an Item carries.
type Kind uint8

// The kinds of Item.
const (
	// KindEvent carries an event.
	KindEvent Kind = iota + 1
	// KindResync says that events the subscriber asked for are gone (pruned, or the database is not
	// the one the subscriber knew): it must refetch its state. Live events follow.
	KindResync
	// KindMark is the marker queued by Subscription.Mark.
	KindMark
)

// Item is one thing a subscriber receives, in order.
type Item struct {
	Kind  Kind
	Entry *Entry // KindEvent only
}
