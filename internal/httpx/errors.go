package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// Stable error codes. Clients may match on them; do not rename.
const (
	CodeBadRequest          = "BadRequest"
	CodeNotFound            = "NotFound"
	CodeMethodNotAllowed    = "MethodNotAllowed"
	CodeConflict            = "Conflict"
	CodePreconditionFailed  = "PreconditionFailed"
	CodePayloadTooLarge     = "PayloadTooLarge"
	CodeUnsupportedMedia    = "UnsupportedMediaType"
	CodeNotAcceptable       = "NotAcceptable"
	CodeUnauthorized        = "Unauthorized"
	CodeForbidden           = "Forbidden"
	CodeTooManyRequests     = "TooManyRequests"
	CodeClientClosedRequest = "ClientClosedRequest"
	CodeInternal            = "InternalServerError"
	CodeUnavailable         = "ServiceUnavailable"
)

// StatusClientClosedRequest is nginx's non-standard status for a client that
// went away before the response was written.
const StatusClientClosedRequest = 499

// Error is an error that already knows its HTTP status. Handlers use it for
// HTTP-level problems (unknown route parameter, wrong content type); domain
// errors are mapped by WriteError instead.
type Error struct {
	Status      int
	Code        string
	Description string
	Err         error // optional cause, never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Description + ": " + e.Err.Error()
	}
	return e.Description
}

func (e *Error) Unwrap() error { return e.Err }

// BadRequest returns a 400 error naming the offending parameter.
func BadRequest(param, format string, args ...any) error {
	return &search.InvalidParamError{Param: param, Reason: fmt.Sprintf(format, args...)}
}

// NotFound returns a 404 error with the given description.
func NotFound(format string, args ...any) error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Description: fmt.Sprintf(format, args...)}
}

// Body is the STAC API error document.
type Body struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	RequestID   string `json:"requestId,omitempty"`
}

// Classify maps an error to its HTTP status and body. It is the only place
// where errors become status codes.
func Classify(err error) (int, Body) {
	var (
		he *Error
		pe *search.InvalidParamError
		ve *stac.ValidationError
		mb *http.MaxBytesError
		re *raster.Error
	)
	switch {
	case errors.As(err, &he):
		return he.Status, Body{Code: he.Code, Description: he.Description}
	case errors.As(err, &pe), errors.As(err, &ve):
		// The whole chain: callers wrap these with where the input was bad
		// (e.g. "features[3]: ...").
		return http.StatusBadRequest, Body{Code: CodeBadRequest, Description: err.Error()}
	case errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge, Body{Code: CodePayloadTooLarge, Description: fmt.Sprintf("request body larger than %d bytes", mb.Limit)}
	case errors.As(err, &re):
		// Raster sources: missing data is 404, anything else the client
		// asked for (unreadable source, bad band, unknown CRS) is 400 with
		// GDAL's reason.
		if errors.Is(re, raster.ErrOutsideBounds) || errors.Is(re, raster.ErrSourceNotFound) {
			return http.StatusNotFound, Body{Code: CodeNotFound, Description: re.Error()}
		}
		return http.StatusBadRequest, Body{Code: CodeBadRequest, Description: re.Error()}
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, Body{Code: CodeNotFound, Description: err.Error()}
	case errors.Is(err, store.ErrCollectionMissing):
		return http.StatusNotFound, Body{Code: CodeNotFound, Description: err.Error()}
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, Body{Code: CodeConflict, Description: err.Error()}
	case errors.Is(err, store.ErrPreconditionFailed):
		return http.StatusPreconditionFailed, Body{Code: CodePreconditionFailed, Description: err.Error()}
	case errors.Is(err, context.Canceled):
		return StatusClientClosedRequest, Body{Code: CodeClientClosedRequest, Description: "client closed request"}
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, Body{Code: CodeUnavailable, Description: "request timed out"}
	default:
		return http.StatusInternalServerError, Body{Code: CodeInternal, Description: "internal server error"}
	}
}

// WriteError writes err as a STAC error document. Server errors are logged
// with their cause; the cause is never sent to the client.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	status, body := Classify(err)
	body.RequestID = RequestID(r.Context())
	switch {
	case status >= 500:
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err, "request_id", body.RequestID)
	case status == StatusClientClosedRequest:
		log.DebugContext(r.Context(), "client went away", "path", r.URL.Path)
	}
	WriteJSON(w, status, "application/json", body)
}

// WriteJSON encodes v as the response body with the given status and
// content type.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		contentType = "application/json"
		b = []byte(`{"code":"InternalServerError","description":"response encoding failed"}`)
	}
	WriteBytes(w, status, contentType, b)
}

// WriteBytes writes an already-encoded body.
func WriteBytes(w http.ResponseWriter, status int, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
