// Package strictjson decodes a request's JSON body into a Go struct
// strictly, where encoding/json is lenient: keys matched case-insensitively,
// a key given twice, invalid UTF-8 or half a surrogate pair made U+FFFD
// without a word (issue 8). httpapi decodes every command through it and
// answers each Fault with its code.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of a body. Commands nest two levels.
const MaxDepth = 16

// Fault is what is wrong with a body.
type Fault int

const (
	// Malformed: not JSON, not an object, trailing data, a wrong JSON type,
	// a key given twice, or nested deeper than MaxDepth.
	Malformed Fault = iota
	// UnknownField: a key that is not a json tag of the struct (exact
	// spelling).
	UnknownField
	// NotText: a string that is not valid UTF-8 or holds half a UTF-16
	// surrogate pair.
	NotText
)

// Error is a body refused: the fault, the field at fault ("amount.amount",
// "commands[2]"; empty for the whole body) and a message for the client.
type Error struct {
	Fault   Fault
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func malformed(field, message string) *Error {
	return &Error{Fault: Malformed, Field: field, Message: message}
}

func unknown(field, message string) *Error {
	return &Error{Fault: UnknownField, Field: field, Message: message}
}

// Decode decodes a JSON object into v, a pointer to a struct, strictly: one
// object and nothing after it, only the keys of v's json tags spelt exactly
// (encoding/json would match "Amount" to "amount"), no key twice
// (encoding/json keeps the last), every value of the right JSON type, and
// every string text (see checkRawString). What the values mean is the
// caller's to judge.
func Decode(body []byte, v any) *Error {
	trimmed := bytes.TrimSpace(body)
	if !json.Valid(trimmed) {
		return syntaxError(trimmed)
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return malformed("", "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := checkKeys(dec, trimmed, reflect.TypeOf(v), "", 0); err != nil {
		return err
	}
	dec = json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return malformed(te.Field, fmt.Sprintf("%s: a JSON %s where %s is wanted", orBody(te.Field), te.Value, jsonKind(te.Type)))
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return unknown(name, fmt.Sprintf("unknown field %q", name))
		}
		return malformed("", "the body is not valid JSON: "+err.Error())
	}
	return nil
}

// syntaxError describes invalid JSON with the offset of the fault.
func syntaxError(b []byte) *Error {
	if len(b) == 0 {
		return malformed("", "the body is empty: send a JSON object")
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	err := dec.Decode(&v)
	if err == nil {
		return malformed("", fmt.Sprintf("trailing data after the JSON value at byte %d", dec.InputOffset()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return malformed("", fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se))
	}
	return malformed("", "invalid JSON: "+err.Error())
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return field
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

// checkKeys walks one JSON value (already known to be valid) against the Go
// type it decodes into, and refuses keys that are not exactly a json tag of
// that struct, keys given twice, and string values that are not text (see
// checkRawString). A nil t accepts any value. Type mismatches are left to
// json.Decoder, which names the field. body is what dec reads.
func checkKeys(dec *json.Decoder, body []byte, t reflect.Type, path string, depth int) *Error {
	if depth > MaxDepth {
		return malformed(path, fmt.Sprintf("the body nests deeper than %d levels", MaxDepth))
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		// Kept as it is, to be decoded later into a type known then (the
		// body of a batch item), which checks it.
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return malformed(path, "invalid JSON: "+err.Error())
		}
		return nil
	}
	start := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return malformed(path, "invalid JSON: "+err.Error())
	}
	d, ok := tok.(json.Delim)
	if !ok {
		if _, isString := tok.(string); isString {
			// From the previous token's end: the separators before the
			// string are ASCII, so they do not matter.
			return checkRawString(path, body[start:dec.InputOffset()])
		}
		return nil
	}
	switch d {
	case '{':
		var fields map[string]reflect.Type
		if t != nil && t.Kind() == reflect.Struct {
			fields = jsonFields(t)
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return malformed(path, "invalid JSON: "+err.Error())
			}
			key := kt.(string)
			p := key
			if path != "" {
				p = path + "." + key
			}
			var ft reflect.Type
			if fields != nil {
				var known bool
				if ft, known = fields[key]; !known {
					return unknown(p, fmt.Sprintf("unknown field %q", p))
				}
			}
			if seen[key] {
				return malformed(p, fmt.Sprintf("field %q is given twice", p))
			}
			seen[key] = true
			if err := checkKeys(dec, body, ft, p, depth+1); err != nil {
				return err
			}
		}
	case '[':
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := checkKeys(dec, body, et, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return malformed(path, "invalid JSON: "+err.Error())
	}
	return nil
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

// checkRawString refuses a JSON string, as its raw bytes, that holds
// invalid UTF-8 or a \u escape of half a surrogate pair ("\ud800"):
// encoding/json would store either as U+FFFD without a word (issue 8). What
// the string holds once decoded (control characters, blank text) is the
// domain's to judge.
func checkRawString(field string, raw []byte) *Error {
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n == 1 {
			return invalidText(field, fmt.Sprintf("%s is not valid UTF-8 (byte 0x%02X): send text in UTF-8", orBody(field), raw[i]))
		}
		i += n
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // a valid string has a character after '\\'
		if raw[i] != 'u' {
			continue
		}
		r := escapedRune(raw[i-1:])
		i += 4
		if r >= 0xD800 && r < 0xDC00 { // high: a low must follow
			if low := escapedRune(raw[i+1:]); low >= 0xDC00 && low <= 0xDFFF {
				i += 6
				continue
			}
		}
		if utf16.IsSurrogate(r) {
			return invalidText(field, fmt.Sprintf("%s holds \\u%04x, half of a UTF-16 surrogate pair, which is no character", orBody(field), r))
		}
	}
	return nil
}

// escapedRune returns the code unit of the \uXXXX escape b starts with, or
// -1 when b does not start with one.
func escapedRune(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	n, err := strconv.ParseUint(string(b[2:6]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(n)
}

func invalidText(field, message string) *Error {
	return &Error{Fault: NotText, Field: field, Message: message}
}

// jsonFields maps the json names of a struct's fields, embedded structs
// flattened, to their types. Fields tagged "-" (the command's Meta, an id
// taken from the path) are not there: the client cannot set them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
