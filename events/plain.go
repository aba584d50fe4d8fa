package events

import (
	"github.com/unesco-uil/mdfm-ledger/money"
)

// plainDecoder is a payload that can read its data without encoding/json
// when the data is in the plain form the log stores (plainMembers).
// decodePlain leaves the payload unchanged and returns false for any other
// form, which Payload then gives to the decoder: the fast path reads
// nothing the decoder would not read the same way
// (TestPlainPayloadsAreTheDecoders). Receipts and their fees are nearly all
// of a long log; decoding them by reflection was the largest part of
// ledgerd's start-up (issue 10, docs/performance.md).
type plainDecoder interface {
	decodePlain(data []byte) bool
}

// plainMembers calls member, in order, for each member of the JSON object
// b when b is in the plain form the log stores: no space, each key a string
// of plain ASCII without escapes, and each value such a string (val is its
// body, obj false) or an object of such strings (val is the whole object,
// obj true). It returns false, having called member for some members or
// none, for anything else, or as soon as member returns false.
func plainMembers(b []byte, member func(key, val []byte, obj bool) bool) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	rest := b[1 : len(b)-1]
	if len(rest) == 0 {
		return true
	}
	for {
		n := plainStringLen(rest)
		if n < 0 || len(rest) == n || rest[n] != ':' {
			return false
		}
		key := rest[1 : n-1]
		rest = rest[n+1:]
		obj := len(rest) > 0 && rest[0] == '{'
		if obj {
			n = plainObjectLen(rest)
		} else {
			n = plainStringLen(rest)
		}
		if n < 0 {
			return false
		}
		val := rest[:n]
		if !obj {
			val = rest[1 : n-1]
		}
		if !member(key, val, obj) {
			return false
		}
		switch rest = rest[n:]; {
		case len(rest) == 0:
			return true
		case rest[0] != ',':
			return false
		}
		rest = rest[1:]
	}
}

// plainStringLen is the length of the JSON string at the start of b,
// quotes included, when it is plain ASCII without escapes; else -1.
func plainStringLen(b []byte) int {
	if len(b) == 0 || b[0] != '"' {
		return -1
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\' || c < 0x20 || c >= 0x80:
			return -1
		}
	}
	return -1
}

// plainObjectLen is the length of the object at the start of b when it is
// in plainMembers' form with string values only, or -1.
func plainObjectLen(b []byte) int {
	if len(b) > 1 && b[1] == '}' {
		return 2
	}
	n := 1
	for {
		k := plainStringLen(b[n:])
		if k < 0 || n+k >= len(b) || b[n+k] != ':' {
			return -1
		}
		n += k + 1
		if k = plainStringLen(b[n:]); k < 0 || n+k >= len(b) {
			return -1
		}
		switch n += k; b[n] {
		case '}':
			return n + 1
		case ',':
			n++
		default:
			return -1
		}
	}
}

// plainText sets *dst to a string value.
func plainText(dst *string, val []byte, obj bool) bool {
	if obj {
		return false
	}
	*dst = string(val)
	return true
}

// plainAmount sets *dst to an amount's object, as the decoder would
// (money.Amount.UnmarshalJSON); false when it refuses it.
func plainAmount(dst *money.Amount, val []byte, obj bool) bool {
	return obj && dst.UnmarshalJSON(val) == nil
}

func (p *ContributionReceived) decodePlain(data []byte) bool {
	var v ContributionReceived
	ok := plainMembers(data, func(key, val []byte, obj bool) bool {
		switch string(key) {
		case "amount":
			return plainAmount(&v.Amount, val, obj)
		case "bank_ref":
			return plainText(&v.BankRef, val, obj)
		case "contribution_id":
			return plainText(&v.ContributionID, val, obj)
		case "donor_id":
			return plainText(&v.DonorID, val, obj)
		case "earmark":
			return plainText(&v.Earmark, val, obj)
		case "pledge_id":
			return plainText(&v.PledgeID, val, obj)
		case "pledge_settled_usd":
			v.PledgeSettledUSD = new(money.Amount)
			return plainAmount(v.PledgeSettledUSD, val, obj)
		case "received_on":
			return plainText(&v.ReceivedOn, val, obj)
		case "term_id":
			return plainText(&v.TermID, val, obj)
		case "usd_amount":
			return plainAmount(&v.USDAmount, val, obj)
		case "usd_rate":
			return plainText(&v.USDRate, val, obj)
		}
		return false
	})
	if ok {
		*p = v
	}
	return ok
}

func (p *FeeCharged) decodePlain(data []byte) bool {
	var v FeeCharged
	ok := plainMembers(data, func(key, val []byte, obj bool) bool {
		switch string(key) {
		case "amount":
			return plainAmount(&v.Amount, val, obj)
		case "contribution_id":
			return plainText(&v.ContributionID, val, obj)
		case "donor_id":
			return plainText(&v.DonorID, val, obj)
		case "earmark":
			return plainText(&v.Earmark, val, obj)
		case "fee_rate":
			return plainText(&v.FeeRate, val, obj)
		case "term_id":
			return plainText(&v.TermID, val, obj)
		}
		return false
	})
	if ok {
		*p = v
	}
	return ok
}
