package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/httpapi/strictjson"
)

// MaxBodyBytes bounds a request body. A command is a few hundred bytes; an
// event must stay under events.MaxEventBytes.
const MaxBodyBytes = 64 << 10

// MaxBatchBodyBytes bounds the body of POST /v1/batch: up to MaxBatchItems
// commands of a few hundred bytes each.
const MaxBatchBodyBytes = 512 << 10

// MaxJSONDepth bounds the nesting of a body. Commands nest two levels.
const MaxJSONDepth = strictjson.MaxDepth

// checkContentType accepts no Content-Type (curl -d sends a form type, but
// clients that send none are common) and JSON ones, in UTF-8: a body
// declared in another charset (utf-16) would be read as UTF-8 and mean
// something else than the client meant.
func checkContentType(r *http.Request) *errs.Error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return errorf(CodeUnsupportedMediaType, "", fmt.Sprintf("charset %q: send JSON in UTF-8", trunc(cs)))
		}
		return nil
	}
	return errorf(CodeUnsupportedMediaType, "", fmt.Sprintf("Content-Type %q: send application/json", ct))
}

// readBody reads the whole body, at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *errs.Error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(CodeBodyTooLarge, "", fmt.Sprintf("the body is larger than %d bytes", limit))
		}
		// The error names the socket's addresses ("read tcp a->b: i/o
		// timeout"): they are no business of the client's.
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, errorf(CodeMalformedJSON, "", fmt.Sprintf("the body did not arrive whole within %s", WriteTimeout))
		}
		return nil, errorf(CodeMalformedJSON, "", "the body could not be read whole")
	}
	return buf.Bytes(), nil
}

// decodeCommand decodes a JSON object into v, a pointer to a command struct,
// strictly (strictjson.Decode): one object and nothing after it, only the
// keys of v's json tags spelt exactly, no key twice, every value of the
// right JSON type and every string text. Domain rules (amounts, dates, ids)
// are Decide's to judge.
func decodeCommand(body []byte, v any) *errs.Error {
	err := strictjson.Decode(body, v)
	if err == nil {
		return nil
	}
	switch err.Fault {
	case strictjson.UnknownField:
		return errorf(CodeUnknownField, err.Field, err.Message)
	case strictjson.NotText:
		// The domain's invalid_text refusal, found at the edge.
		return domain.Codes.New(domain.CodeInvalidText, err.Field, err.Message)
	}
	return errorf(CodeMalformedJSON, err.Field, err.Message)
}
