package apierr

import (
	"net/http"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// statusOf is the one table mapping error codes to HTTP statuses (v1 statuses; v2 differs only where
// v2Override says so).
var statusOf = map[maestro.Code]int{
	maestro.CodeValidation:       http.StatusBadRequest,
	maestro.CodeNotFound:         http.StatusNotFound,
	maestro.CodeConflict:         http.StatusConflict,
	maestro.CodeBusinessRule:     http.StatusUnprocessableEntity,
	maestro.CodeInternal:         http.StatusInternalServerError,
	maestro.CodeNotImplemented:   http.StatusNotImplemented,
	maestro.CodeUnauthorized:     http.StatusUnauthorized,
	maestro.CodeForbidden:        http.StatusForbidden,
	maestro.CodePayloadTooLarge:  http.StatusRequestEntityTooLarge,
	maestro.CodeRateLimited:      http.StatusTooManyRequests,
	maestro.CodeOverloaded:       http.StatusServiceUnavailable,
	maestro.CodeStorageDown:      http.StatusServiceUnavailable,
	maestro.CodeFeatureDisabled:  http.StatusNotFound,
	maestro.CodeUnsupportedVer:   http.StatusBadRequest,
	maestro.CodePrecondition:     http.StatusPreconditionFailed,
	maestro.CodeDependencyCycle:  http.StatusUnprocessableEntity,
	maestro.CodeUpgradeRequired:  http.StatusUpgradeRequired,
	maestro.CodeUnsupportedMedia: http.StatusUnsupportedMediaType,
	maestro.CodeRequestTimeout:   http.StatusRequestTimeout,
	maestro.CodeTaskNotClaimable: http.StatusConflict,
	maestro.CodeLeaseTokenStale:  http.StatusConflict,

	maestro.CodeIdempotencyReused: http.StatusUnprocessableEntity,

	maestro.CodeMissingProjectID:     http.StatusBadRequest,
	maestro.CodeInvalidTaskIDs:       http.StatusBadRequest,
	maestro.CodeInvalidSpawnSource:   http.StatusBadRequest,
	maestro.CodeMissingSessionID:     http.StatusBadRequest,
	maestro.CodeInvalidRole:          http.StatusBadRequest,
	maestro.CodeInvalidStrategy:      http.StatusBadRequest,
	maestro.CodeParentSessionMissing: http.StatusNotFound,
	maestro.CodeTaskNotFound:         http.StatusNotFound,
	maestro.CodeProjectNotFound:      http.StatusNotFound,
	maestro.CodeManifestFailed:       http.StatusInternalServerError,
	maestro.CodeSpawnError:           http.StatusInternalServerError,
}

// v2Override lists where v2 answers differently: validation failures are 422 there (DESIGN §12),
// spawn's own validation codes included (they keep their codes, which clients match).
var v2Override = map[maestro.Code]int{
	maestro.CodeValidation: http.StatusUnprocessableEntity,

	maestro.CodeMissingProjectID:   http.StatusUnprocessableEntity,
	maestro.CodeInvalidTaskIDs:     http.StatusUnprocessableEntity,
	maestro.CodeInvalidSpawnSource: http.StatusUnprocessableEntity,
	maestro.CodeMissingSessionID:   http.StatusUnprocessableEntity,
	maestro.CodeInvalidRole:        http.StatusUnprocessableEntity,
	maestro.CodeInvalidStrategy:    http.StatusUnprocessableEntity,
}

// Status returns the HTTP status of code in API version v (1 or 2). Unknown codes are 500.
func Status(v int, code maestro.Code) int {
	if v >= 2 {
		if s, ok := v2Override[code]; ok {
			return s
		}
	}
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// codeOfStatus names the code for an error huma (or the router) produced with only a status.
func codeOfStatus(status int) maestro.Code {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType:
		return maestro.CodeValidation
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return maestro.CodeNotFound
	case http.StatusRequestEntityTooLarge:
		return maestro.CodePayloadTooLarge
	case http.StatusPreconditionFailed:
		return maestro.CodePrecondition
	case http.StatusUnauthorized:
		return maestro.CodeUnauthorized
	case http.StatusForbidden:
		return maestro.CodeForbidden
	case http.StatusTooManyRequests:
		return maestro.CodeRateLimited
	case http.StatusServiceUnavailable:
		return maestro.CodeOverloaded
	}
	if status >= 500 {
		return maestro.CodeInternal
	}
	return maestro.CodeValidation
}
