package domain

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// The window of every date a command carries (issue 8: a receipt dated
// 0001-01-01 was accepted, and then the IATI file and verify --from failed
// on it for good, since a closed term refuses the correction). Every date
// of every command lies in [MinDate, MaxDate]; a date that something
// happened (received_on, signed_on, spent_on, paid_on, earned_on,
// proposed_on, approved_on, amended_on, cancelled_on, closed_on) is not
// after today; a term lasts at most MaxTermYears; a receipt or a pledge's
// signing may come before its term starts, by at most the margins below.
// The window is 100 calendar years: the IATI organisation file gives one
// budget per year of the terms, and takes at most 100 (iati.MaxBudgets).
const (
	MinDate           = "2000-01-01" // no date before it: the fund is younger
	MaxDate           = "2099-12-31" // no date after it: due dates and terms' ends
	MaxTermYears      = 10           // ends_on at most this many years after starts_on
	EarlyReceiptYears = 1            // a receipt may come this long before its term starts
	EarlySigningYears = 2            // a pledge may be signed this long before its term starts
)

// inWindow refuses a date (already known to be one) outside [MinDate,
// MaxDate].
func inWindow(field, s string) error {
	if s < MinDate || s > MaxDate {
		return refuse(CodeDateOutOfRange, field, "%s %s is outside the dates the ledger takes (%s to %s)", field, s, MinDate, MaxDate)
	}
	return nil
}

// addYears returns the date n years after (n < 0: before) date d, both
// YYYY-MM-DD. d is a date the caller checked.
func addYears(d string, n int) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		panic("domain: addYears of a date not checked: " + d)
	}
	return t.AddDate(n, 0, 0).Format(time.DateOnly)
}

// checkNotEarly refuses a date more than years before term t starts.
func checkNotEarly(field, on string, t *Term, years int) error {
	if first := addYears(t.StartsOn, -years); on < first {
		return refuse(CodeDateOutsideTerm, field, "%s %s is more than %d year(s) before term %s starts (%s): the earliest is %s",
			field, on, years, t.ID, t.StartsOn, first)
	}
	return nil
}

// Text is checked as one line (names, titles, payees, bank references,
// cities) or as multi-line (descriptions, notes, reasons), which may also
// hold tabs and line breaks (CR, LF, U+2028, U+2029). Both refuse what the reports cannot carry
// (issue 8): control characters (C0, DEL, C1), Unicode noncharacters
// (U+FFFE is not allowed in XML), invalid UTF-8 — and text with nothing
// visible in it ("   ", a no-break space, a zero-width space), which the
// statement and the IATI file refuse as missing.

// checkTextOf checks a text field: missing_field when required and empty,
// text_too_long, invalid_text, blank_text.
func checkTextOf(field, s string, required, multiline bool) error {
	if s == "" {
		if required {
			return refuse(CodeMissingField, field, "%s is required", field)
		}
		return nil
	}
	if len(s) > MaxTextLen {
		return refuse(CodeTextTooLong, field, "%s is %d bytes, at most %d", field, len(s), MaxTextLen)
	}
	if !utf8.ValidString(s) {
		return refuse(CodeInvalidText, field, "%s is not valid UTF-8", field)
	}
	visible := false
	for i, r := range s {
		if what := notText(r, multiline); what != "" {
			return refuse(CodeInvalidText, field, "%s holds %s, %U, at byte %d", field, what, r, i)
		}
		if !visible && !isInvisible(r) {
			visible = true
		}
	}
	if !visible {
		return refuse(CodeBlankText, field, "%s holds only spaces or invisible characters: send a text, or leave it out", field)
	}
	return nil
}

// notText says what r is when a text field may not hold it, or "".
func notText(r rune, multiline bool) string {
	switch {
	case isLineBreak(r) && multiline:
		return ""
	case isLineBreak(r):
		return "a tab or line break (only descriptions, notes and reasons take them)"
	case unicode.IsControl(r):
		return "a control character"
	case isNoncharacter(r):
		return "a Unicode noncharacter"
	}
	return ""
}

// isLineBreak reports whether r is a tab or a line break: CR, LF, or
// Unicode's line and paragraph separators.
func isLineBreak(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029'
}

// isNoncharacter reports whether r is one of Unicode's 66 noncharacters
// (U+FDD0..U+FDEF and the last two code points of every plane).
func isNoncharacter(r rune) bool {
	return r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE
}

// isInvisible reports whether r shows nothing by itself: white space
// (which includes U+00A0 and U+3000) or a format character such as U+200B
// ZERO WIDTH SPACE or U+FEFF.
func isInvisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
}
