package app

import (
	"fmt"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// OpenAPI returns the OpenAPI document of API version v, as YAML or JSON. It builds the server without
// a database: registering operations needs none.
func OpenAPI(v int, asJSON bool) ([]byte, error) {
	srv := httpapi.New(httpapi.Options{Services: &service.Services{}})
	var api huma.API
	switch v {
	case 1:
		api = srv.V1()
	case 2:
		api = srv.V2()
	default:
		return nil, fmt.Errorf("unknown API version %d (supported: 1, 2)", v)
	}
	if asJSON {
		return api.OpenAPI().MarshalJSON()
	}
	return api.OpenAPI().YAML()
}
