package ingest

import "fmt"

// Reason classifies why a record was not ingested.
type Reason string

const (
	ReasonInvalidJSON       Reason = "invalid-json"
	ReasonInvalidSTAC       Reason = "invalid-stac"
	ReasonOversized         Reason = "oversized"
	ReasonFetch             Reason = "fetch-failed"
	ReasonHrefRefused       Reason = "href-refused"
	ReasonUnsupported       Reason = "unsupported"
	ReasonMissingCollection Reason = "missing-collection"
	ReasonStore             Reason = "store"
	ReasonAction            Reason = "action-failed"
	ReasonGaveUp            Reason = "retries-exhausted"
)

// Failure is why one record was not ingested. Transient failures are
// retried with backoff; the others are dead-lettered at once.
type Failure struct {
	Reason    Reason
	Err       error
	Transient bool
}

func (f *Failure) Error() string { return fmt.Sprintf("%s: %v", f.Reason, f.Err) }
func (f *Failure) Unwrap() error { return f.Err }

func permanent(r Reason, format string, args ...any) *Failure {
	return &Failure{Reason: r, Err: fmt.Errorf(format, args...)}
}

func transient(r Reason, err error) *Failure {
	return &Failure{Reason: r, Err: err, Transient: true}
}
