package httpapi

import (
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apierr"
)

// errorDescriptions explain, per status, when the server answers it (the OpenAPI response description).
var errorDescriptions = map[int]string{
	http.StatusBadRequest:            "Bad request: malformed JSON, or (v1) a parameter or body that fails validation.",
	http.StatusUnauthorized:          "Missing or invalid bearer token (only when the server runs with MAESTRO_API_TOKEN).",
	http.StatusNotFound:              "The resource does not exist.",
	http.StatusConflict:              "The request conflicts with the current state.",
	http.StatusPreconditionFailed:    "If-Match did not match the current ETag.",
	http.StatusRequestEntityTooLarge: "The body is larger than 1 MiB or a field is longer than its limit.",
	http.StatusUnprocessableEntity:   "A parameter or the body fails validation (v2), or a business rule refuses the change.",
	http.StatusInternalServerError:   "Internal error; the response's requestId matches the server's log lines and error report.",
}

// documentAPI finishes the OpenAPI document of API version v after every operation is registered:
//
//   - every error response documents the body this version really sends — v1 the legacy shape
//     (apierr.Legacy, application/json), v2 RFC 9457 problem details (apierr.Problem,
//     application/problem+json) — instead of huma's default ErrorModel;
//   - every operation lists the errors any operation can answer: 401 when a token is configured (but
//     the open health paths), 500, and the validation and size errors of operations that take input;
//   - the bearer token is declared as an (optional) security scheme, so the docs page can send it.
func documentAPI(oapi *huma.OpenAPI, v int) {
	reg := oapi.Components.Schemas
	contentType := "application/json"
	var errType reflect.Type = reflect.TypeFor[apierr.Legacy]()
	if v >= 2 {
		contentType = "application/problem+json"
		errType = reflect.TypeFor[apierr.Problem]()
	}
	errSchema := reg.Schema(errType, true, "")

	for path, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch, item.Head, item.Options} {
			if op == nil {
				continue
			}
			if op.Responses == nil {
				op.Responses = map[string]*huma.Response{}
			}
			delete(op.Responses, "default")
			codes := []int{http.StatusInternalServerError}
			if !openPaths[path] {
				codes = append(codes, http.StatusUnauthorized)
			}
			hasParams := len(op.Parameters) > 0
			if op.RequestBody != nil {
				codes = append(codes, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
			}
			if hasParams || op.RequestBody != nil {
				if v >= 2 {
					codes = append(codes, http.StatusUnprocessableEntity)
				} else {
					codes = append(codes, http.StatusBadRequest)
				}
			}
			for _, c := range codes {
				key := strconv.Itoa(c)
				if _, ok := op.Responses[key]; !ok {
					op.Responses[key] = &huma.Response{}
				}
			}
			if v < 2 && !declares(op, http.StatusUnprocessableEntity) {
				// huma documents 422 for every operation with parameters or a body; v1 answers validation
				// failures with 400 and 422 only where an operation declares a business rule.
				delete(op.Responses, strconv.Itoa(http.StatusUnprocessableEntity))
			}
			for key, resp := range op.Responses {
				if key == "304" {
					// Listed among huma's "errors" only to be documented: a 304 has no body.
					resp.Content = nil
					resp.Description = "Not Modified: the resource still has the ETag sent in If-None-Match (no body)."
					continue
				}
				code, err := strconv.Atoi(key)
				if err != nil || code < 400 {
					continue
				}
				desc := errorDescriptions[code]
				if desc == "" {
					desc = http.StatusText(code)
				}
				if v < 2 && code == http.StatusUnprocessableEntity {
					desc = "A business rule refuses the change."
				}
				resp.Description = desc
				resp.Content = map[string]*huma.MediaType{contentType: {Schema: errSchema}}
			}
		}
	}
	// huma's default error schemas are no longer referenced.
	if m := reg.Map(); m != nil {
		delete(m, "ErrorModel")
		delete(m, "ErrorDetail")
	}

	if oapi.Components.SecuritySchemes == nil {
		oapi.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	oapi.Components.SecuritySchemes["bearerAuth"] = &huma.SecurityScheme{
		Type: "http", Scheme: "bearer",
		Description: "The server's MAESTRO_API_TOKEN. Required on every path but /health, /healthz and /readyz " +
			"when the server is configured with a token; not used otherwise.",
	}
	// Either the token or nothing: the token is optional because servers on loopback may run without.
	oapi.Security = []map[string][]string{{"bearerAuth": {}}, {}}
}

// declares reports whether op itself listed status among its errors. huma appends 422 and 500 to the
// declared list of operations with input, so those two trailing entries do not count.
func declares(op *huma.Operation, status int) bool {
	errs := op.Errors
	if n := len(errs); n >= 2 && errs[n-2] == http.StatusUnprocessableEntity && errs[n-1] == http.StatusInternalServerError {
		errs = errs[:n-2]
	}
	for _, e := range errs {
		if e == status {
			return true
		}
	}
	return false
}

// operations lists every operation of oapi as "METHOD path", sorted (tests and the docs index).
func operations(oapi *huma.OpenAPI) []string {
	var out []string
	for path, item := range oapi.Paths {
		for m, op := range map[string]*huma.Operation{"GET": item.Get, "PUT": item.Put, "POST": item.Post,
			"DELETE": item.Delete, "PATCH": item.Patch, "HEAD": item.Head, "OPTIONS": item.Options} {
			if op != nil {
				out = append(out, m+" "+path)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return strings.SplitN(out[i], " ", 2)[1]+out[i] < strings.SplitN(out[j], " ", 2)[1]+out[j]
	})
	return out
}
