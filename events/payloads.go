package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/unesco-uil/mdfm-ledger/money"
)

// Payload is the data of one event type. Each type is declared in its own
// file, type_<name>.go: its stable name, its payload struct and its
// registration (see Type). Parts shared by several payloads are below.
type Payload interface {
	// EventType returns the stable type name stored in the envelope.
	EventType() string
}

// Draw is an amount in US dollars taken from (or returned to) one pot of a
// term's unallocated balance: Earmark is "line:<id>", "cluster:<id>" or empty
// for the unearmarked pot.
type Draw struct {
	Earmark string       `json:"earmark,omitempty"`
	Amount  money.Amount `json:"amount"` // USD
}

// New returns an unsealed event carrying p: type, version, effective date and
// canonical data are set; identity, position and hashes are the writer's.
func New(effectiveOn string, p Payload) (Event, error) {
	data, err := CanonicalValue(p)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s payload: %w", p.EventType(), err)
	}
	t, ok := byName[p.EventType()]
	if !ok {
		return Event{}, fmt.Errorf("new event: %T has type %q, which is not in Types", p, p.EventType())
	}
	return Event{Type: t.Name, V: t.V, EffectiveOn: effectiveOn, Data: data}, nil
}

// Payload decodes the event's data into its payload type (a pointer to the
// struct its type registers). Unknown fields are an error: a stored event means
// exactly what its schema says.
func (e Event) Payload() (Payload, error) {
	p, err := newPayload(e.Type, e.V)
	if err != nil {
		return nil, err
	}
	if pd, ok := p.(plainDecoder); ok && pd.decodePlain(e.Data) {
		return p, nil
	}
	d := payloadDecoders.Get().(*payloadDecoder)
	d.r.Reset(e.Data)
	if err := d.dec.Decode(p); err != nil {
		// d is dropped. A new decoder gives the error as it always was (a
		// kept one counts offsets from the first data it read).
		return e.payloadFresh()
	}
	if d.r.Len() == 0 && d.dec.Buffered().(*bytes.Reader).Len() == 0 {
		payloadDecoders.Put(d) // it read exactly the data: as good as new
	}
	return p, nil
}

// payloadFresh is Payload with a new decoder.
func (e Event) payloadFresh() (Payload, error) {
	p, err := newPayload(e.Type, e.V)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(e.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("decode %s data of fund %s fund_seq %d: %w", e.Type, e.Fund, e.FundSeq, err)
	}
	return p, nil
}

// payloadDecoder is a json.Decoder kept for the next payload: a new
// decoder, its reader and its buffer for every event were a quarter of the
// garbage of ledgerd's start-up on a long log (docs/performance.md,
// "Start-up and verify at 1,000,000 events"). One goes back to the pool
// only when its last Decode succeeded and consumed all the data given to
// it: its scanner is reset by every Decode and its buffer then holds
// nothing, so it decodes the next data as a new decoder does.
type payloadDecoder struct {
	r   bytes.Reader
	dec *json.Decoder
}

var payloadDecoders = sync.Pool{New: func() any {
	d := &payloadDecoder{}
	d.dec = json.NewDecoder(&d.r)
	d.dec.DisallowUnknownFields()
	return d
}}
