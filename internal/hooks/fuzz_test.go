package hooks_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/hooks"
)

type answer string

func (a answer) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(string(a))), Header: http.Header{}}, nil
}

// FuzzPreAnswer: whatever a pre-hook answers, the middleware serves the
// request, answers its rejection, or fails closed with 503; it never
// panics.
func FuzzPreAnswer(f *testing.F) {
	f.Add(`{"reject":{"status":451,"body":{"a":1}}}`)
	f.Add(`{"query":{"limit":["1"]},"headers":{"Accept":""},"body":[1]}`)
	f.Add(`{"_collections":"a,b","_filter":"x = 1"}`)
	f.Add(`{"_filter":{"op":"="}}`)
	f.Add(`{"reject":{"status":99}}`)
	f.Fuzz(func(t *testing.T, ans string) {
		h, err := hooks.New(hooks.Config{PreURL: "http://hook.invalid/", Secret: secret, Client: &http.Client{Transport: answer(ans)}},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.Pre()(app).ServeHTTP(rec, httptest.NewRequest("POST", "/search?x=1", strings.NewReader(`{"limit":1}`)))
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("%d for %q", rec.Code, ans)
		}
	})
}
