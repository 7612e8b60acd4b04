package app

import (
	"fmt"

	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// OpenAPI returns the OpenAPI document of API version v, as YAML or JSON. It builds the server without
// a database: registering operations needs none.
func OpenAPI(v int, asJSON bool) ([]byte, error) {
	srv := httpapi.New(httpapi.Options{Services: &service.Services{}})
	switch v {
	case 1:
		oapi := srv.V1().OpenAPI()
		if asJSON {
			return oapi.MarshalJSON()
		}
		return oapi.YAML()
	default:
		return nil, fmt.Errorf("unknown API version %d (supported: 1)", v)
	}
}
