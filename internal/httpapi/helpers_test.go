package httpapi_test

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// mustJSON encodes v, panicking on a value that cannot be encoded (test data only).
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// wantField checks a top-level string member of a JSON object response.
func wantField(t *testing.T, r *apitest.Response, key, want string) {
	t.Helper()
	if got := r.Object(t)[key]; got != want {
		t.Errorf("%s = %v, want %q (%s)", key, got, want, r.Body)
	}
}

// decodeAll reads every metric family of a text exposition.
func decodeAll(t *testing.T, dec expfmt.Decoder) []*dto.MetricFamily {
	t.Helper()
	var out []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("metrics do not parse: %v", err)
		}
		out = append(out, mf)
	}
}
