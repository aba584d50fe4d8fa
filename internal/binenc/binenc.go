// Package binenc writes Go values to bytes and reads them back exactly as
// they were: a nil map or slice stays nil and an empty one empty, a pointer
// to a zero value stays a pointer (gob loses both), and an interface holds
// a value of one of the types registered with the codec. It is the format
// of the writer's state snapshots (docs/DESIGN.md, "State snapshots"):
// much faster to read than JSON, and exact, so that a state read back
// equals the one written.
//
// Only exported struct fields are kept; a value with unexported fields, a
// float, a func or a chan is refused when met. Fingerprint describes a
// type's whole shape, so that bytes written for another shape are never
// read into it.
package binenc

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Codec encodes and decodes values whose interfaces hold registered types.
type Codec struct {
	byName map[string]reflect.Type
	byType map[reflect.Type]string

	mu   sync.Mutex
	encs map[reflect.Type]encFn
	decs map[reflect.Type]decFn
}

// New returns a codec for interface values of the given types (each a
// concrete type, usually a pointer to a struct), named by their Go type.
func New(types ...any) *Codec {
	c := &Codec{byName: map[string]reflect.Type{}, byType: map[reflect.Type]string{},
		encs: map[reflect.Type]encFn{}, decs: map[reflect.Type]decFn{}}
	for _, v := range types {
		t := reflect.TypeOf(v)
		name := t.String()
		c.byName[name], c.byType[t] = t, name
	}
	return c
}

type (
	encFn func(e *encoder, b []byte, v reflect.Value) ([]byte, error)
	decFn func(d *decoder, v reflect.Value) error
)

// Append appends the encoding of v (a pointer's target) to b.
func (c *Codec) Append(b []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, errors.New("binenc: encode needs a non-nil pointer")
	}
	return c.enc(rv.Elem().Type())(&encoder{}, b, rv.Elem())
}

// Write writes the encoding of v (a pointer's target) to w, the bytes
// Append would append, a few tens of KiB at a time: a large value (a
// state of a million events encodes in about 100 MB) is never held whole
// in memory (issue 10: ledgerd's snapshots).
func (c *Codec) Write(w io.Writer, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("binenc: encode needs a non-nil pointer")
	}
	b, err := c.enc(rv.Elem().Type())(&encoder{w: w}, make([]byte, 0, 2*spillAt), rv.Elem())
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// encoder is what an encoding writes to besides its buffer: nothing for
// Append; for Write, w, which gets the buffer whenever it holds spillAt
// bytes after an element of a slice or a map.
type encoder struct{ w io.Writer }

// spillAt is how many bytes a Write holds before it writes them.
const spillAt = 32 << 10

// spill writes b to e.w and empties it once it holds spillAt bytes.
func (e *encoder) spill(b []byte) ([]byte, error) {
	if e.w == nil || len(b) < spillAt {
		return b, nil
	}
	if _, err := e.w.Write(b); err != nil {
		return nil, err
	}
	return b[:0], nil
}

// Decode reads b into the value v points to; b must hold exactly one value.
func (c *Codec) Decode(b []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("binenc: decode needs a non-nil pointer")
	}
	d := &decoder{b: b, strs: map[string]string{}}
	if err := c.dec(rv.Elem().Type())(d, rv.Elem()); err != nil {
		return err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("binenc: %d bytes left over", len(d.b))
	}
	return nil
}

func (c *Codec) enc(t reflect.Type) encFn {
	c.mu.Lock()
	f, ok := c.encs[t]
	if !ok {
		// A recursive type finds this forward while it is compiled.
		var compiled encFn
		c.encs[t] = func(e *encoder, b []byte, v reflect.Value) ([]byte, error) { return compiled(e, b, v) }
		c.mu.Unlock()
		compiled = c.compileEnc(t)
		c.mu.Lock()
		c.encs[t] = compiled
		f = compiled
	}
	c.mu.Unlock()
	return f
}

func (c *Codec) dec(t reflect.Type) decFn {
	c.mu.Lock()
	f, ok := c.decs[t]
	if !ok {
		var compiled decFn
		c.decs[t] = func(d *decoder, v reflect.Value) error { return compiled(d, v) }
		c.mu.Unlock()
		compiled = c.compileDec(t)
		c.mu.Lock()
		c.decs[t] = compiled
		f = compiled
	}
	c.mu.Unlock()
	return f
}

func refuse(t reflect.Type) error { return fmt.Errorf("binenc: cannot keep %s exactly", t) }

func (c *Codec) compileEnc(t reflect.Type) encFn {
	switch t.Kind() {
	case reflect.Bool:
		return func(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
			if v.Bool() {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
			return binary.AppendVarint(b, v.Int()), nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
			return binary.AppendUvarint(b, v.Uint()), nil
		}
	case reflect.String:
		return func(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
			s := v.String()
			return append(binary.AppendUvarint(b, uint64(len(s))), s...), nil
		}
	case reflect.Pointer:
		elem := c.enc(t.Elem())
		return func(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(b, 0), nil
			}
			return elem(e, append(b, 1), v.Elem())
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return encBytes
		}
		elem := c.enc(t.Elem())
		return func(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(b, 0), nil
			}
			n := v.Len()
			b = binary.AppendUvarint(b, uint64(n)+1)
			var err error
			for i := range n {
				if b, err = elem(e, b, v.Index(i)); err != nil {
					return nil, err
				}
				if b, err = e.spill(b); err != nil {
					return nil, err
				}
			}
			return b, nil
		}
	case reflect.Array:
		return c.encArray(t)
	case reflect.Map:
		key, elem := c.enc(t.Key()), c.enc(t.Elem())
		return func(enc *encoder, b []byte, v reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(b, 0), nil
			}
			b = binary.AppendUvarint(b, uint64(v.Len())+1)
			var err error
			// SetIter* reuse k and e: Key and Value allocate for each entry.
			k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			for it := v.MapRange(); it.Next(); {
				k.SetIterKey(it)
				e.SetIterValue(it)
				if b, err = key(enc, b, k); err != nil {
					return nil, err
				}
				if b, err = elem(enc, b, e); err != nil {
					return nil, err
				}
				if b, err = enc.spill(b); err != nil {
					return nil, err
				}
			}
			return b, nil
		}
	case reflect.Struct:
		fields := make([]encFn, t.NumField())
		for i := range fields {
			if !t.Field(i).IsExported() {
				return func(*encoder, []byte, reflect.Value) ([]byte, error) { return nil, refuse(t) }
			}
			fields[i] = c.enc(t.Field(i).Type)
		}
		return func(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
			var err error
			for i, f := range fields {
				if b, err = f(e, b, v.Field(i)); err != nil {
					return nil, err
				}
			}
			return b, nil
		}
	case reflect.Interface:
		return func(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(b, 0), nil
			}
			inner := v.Elem()
			name, ok := c.byType[inner.Type()]
			if !ok {
				return nil, fmt.Errorf("binenc: %s in an interface is not registered", inner.Type())
			}
			b = append(binary.AppendUvarint(b, uint64(len(name))+1), name...)
			return c.enc(inner.Type())(e, b, inner)
		}
	}
	return func(*encoder, []byte, reflect.Value) ([]byte, error) { return nil, refuse(t) }
}

// encBytes writes a []byte as it is: the state keeps megabytes of them.
// A stream gets a large one straight from where it is, not copied into
// the buffer first.
func encBytes(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
	if v.IsNil() {
		return append(b, 0), nil
	}
	b = binary.AppendUvarint(b, uint64(v.Len())+1)
	if e.w == nil || v.Len() < spillAt {
		return append(b, v.Bytes()...), nil
	}
	if _, err := e.w.Write(b); err != nil {
		return nil, err
	}
	if _, err := e.w.Write(v.Bytes()); err != nil {
		return nil, err
	}
	return b[:0], nil
}

// encArray writes an array's elements (its length is its type's).
func (c *Codec) encArray(t reflect.Type) encFn {
	if t.Elem().Kind() == reflect.Uint8 {
		return func(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
			for i := range v.Len() {
				b = append(b, byte(v.Index(i).Uint()))
			}
			return b, nil
		}
	}
	elem := c.enc(t.Elem())
	return func(e *encoder, b []byte, v reflect.Value) ([]byte, error) {
		var err error
		for i := range v.Len() {
			if b, err = elem(e, b, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
}

// decoder reads what Append wrote. Short strings are interned: a state
// repeats the same dates, type names, accounts and currencies many times.
type decoder struct {
	b    []byte
	strs map[string]string
}

var errShort = errors.New("binenc: truncated or corrupt input")

// maxInterned bounds the interning map, which unique ids would otherwise grow.
const (
	maxInternLen = 24
	maxInterned  = 1 << 16
)

func (d *decoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errShort
	}
	d.b = d.b[n:]
	return x, nil
}

// length reads a length written as n+1 (0 for nil); each element takes at
// least one byte, which bounds what a corrupt length can make us allocate.
func (d *decoder) length() (n int, isNil bool, err error) {
	x, err := d.uvarint()
	if err != nil {
		return 0, false, err
	}
	if x == 0 {
		return 0, true, nil
	}
	if x-1 > uint64(len(d.b)) {
		return 0, false, errShort
	}
	return int(x - 1), false, nil
}

func (d *decoder) str() (string, error) {
	x, err := d.uvarint()
	if err != nil {
		return "", err
	}
	if x > uint64(len(d.b)) {
		return "", errShort
	}
	raw := d.b[:x]
	d.b = d.b[x:]
	if len(raw) > maxInternLen {
		return string(raw), nil
	}
	if s, ok := d.strs[string(raw)]; ok {
		return s, nil
	}
	s := string(raw)
	if len(d.strs) < maxInterned {
		d.strs[s] = s
	}
	return s, nil
}

func (c *Codec) compileDec(t reflect.Type) decFn {
	switch t.Kind() {
	case reflect.Bool:
		return func(d *decoder, v reflect.Value) error {
			if len(d.b) == 0 || d.b[0] > 1 {
				return errShort
			}
			v.SetBool(d.b[0] == 1)
			d.b = d.b[1:]
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(d *decoder, v reflect.Value) error {
			x, n := binary.Varint(d.b)
			if n <= 0 || v.OverflowInt(x) {
				return errShort
			}
			d.b = d.b[n:]
			v.SetInt(x)
			return nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(d *decoder, v reflect.Value) error {
			x, err := d.uvarint()
			if err != nil || v.OverflowUint(x) {
				return errShort
			}
			v.SetUint(x)
			return nil
		}
	case reflect.String:
		return func(d *decoder, v reflect.Value) error {
			s, err := d.str()
			v.SetString(s)
			return err
		}
	case reflect.Pointer:
		elem := c.dec(t.Elem())
		return func(d *decoder, v reflect.Value) error {
			if len(d.b) == 0 || d.b[0] > 1 {
				return errShort
			}
			isNil := d.b[0] == 0
			d.b = d.b[1:]
			if isNil {
				return nil
			}
			p := reflect.New(t.Elem())
			v.Set(p)
			return elem(d, p.Elem())
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return decBytes
		}
		elem := c.dec(t.Elem())
		return func(d *decoder, v reflect.Value) error {
			n, isNil, err := d.length()
			if err != nil || isNil {
				return err
			}
			s := reflect.MakeSlice(t, n, n)
			for i := range n {
				if err := elem(d, s.Index(i)); err != nil {
					return err
				}
			}
			v.Set(s)
			return nil
		}
	case reflect.Array:
		return c.decArray(t)
	case reflect.Map:
		key, elem := c.dec(t.Key()), c.dec(t.Elem())
		return func(d *decoder, v reflect.Value) error {
			n, isNil, err := d.length()
			if err != nil || isNil {
				return err
			}
			m := reflect.MakeMapWithSize(t, n)
			k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			for range n {
				k.SetZero()
				e.SetZero()
				if err := key(d, k); err != nil {
					return err
				}
				if err := elem(d, e); err != nil {
					return err
				}
				m.SetMapIndex(k, e)
			}
			if m.Len() != n {
				return errShort // a key twice
			}
			v.Set(m)
			return nil
		}
	case reflect.Struct:
		fields := make([]decFn, t.NumField())
		for i := range fields {
			if !t.Field(i).IsExported() {
				return func(*decoder, reflect.Value) error { return refuse(t) }
			}
			fields[i] = c.dec(t.Field(i).Type)
		}
		return func(d *decoder, v reflect.Value) error {
			for i, f := range fields {
				if err := f(d, v.Field(i)); err != nil {
					return err
				}
			}
			return nil
		}
	case reflect.Interface:
		return func(d *decoder, v reflect.Value) error {
			n, isNil, err := d.length()
			if err != nil || isNil {
				return err
			}
			name := string(d.b[:n])
			d.b = d.b[n:]
			it, ok := c.byName[name]
			if !ok || !it.Implements(t) {
				return fmt.Errorf("binenc: %q is not a registered %s", name, t)
			}
			x := reflect.New(it).Elem()
			if err := c.dec(it)(d, x); err != nil {
				return err
			}
			v.Set(x)
			return nil
		}
	}
	return func(*decoder, reflect.Value) error { return refuse(t) }
}

func decBytes(d *decoder, v reflect.Value) error {
	n, isNil, err := d.length()
	if err != nil || isNil {
		return err
	}
	s := reflect.MakeSlice(v.Type(), n, n)
	copy(s.Bytes(), d.b[:n])
	d.b = d.b[n:]
	v.Set(s)
	return nil
}

func (c *Codec) decArray(t reflect.Type) decFn {
	if t.Elem().Kind() == reflect.Uint8 {
		return func(d *decoder, v reflect.Value) error {
			n := v.Len()
			if len(d.b) < n {
				return errShort
			}
			for i := range n {
				v.Index(i).SetUint(uint64(d.b[i]))
			}
			d.b = d.b[n:]
			return nil
		}
	}
	elem := c.dec(t.Elem())
	return func(d *decoder, v reflect.Value) error {
		for i := range v.Len() {
			if err := elem(d, v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	}
}

// Fingerprint is a hash of t's shape: every field's name and type, all the
// way down, and the registered types an interface may hold. Two types with
// the same fingerprint read each other's bytes.
func (c *Codec) Fingerprint(t reflect.Type) string {
	var b strings.Builder
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		fmt.Fprintf(&b, "%s:%s", t.String(), t.Kind())
		if seen[t] {
			b.WriteString(";")
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			b.WriteString("(")
			walk(t.Elem())
			b.WriteString(")")
		case reflect.Map:
			b.WriteString("(")
			walk(t.Key())
			walk(t.Elem())
			b.WriteString(")")
		case reflect.Struct:
			b.WriteString("{")
			for i := range t.NumField() {
				f := t.Field(i)
				b.WriteString(f.Name + " ")
				walk(f.Type)
			}
			b.WriteString("}")
		case reflect.Interface:
			b.WriteString("[")
			for _, name := range slices.Sorted(maps.Keys(c.byName)) {
				if it := c.byName[name]; it.Implements(t) {
					walk(it)
				}
			}
			b.WriteString("]")
		}
		b.WriteString(";")
	}
	walk(t)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}
