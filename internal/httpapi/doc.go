// Package httpapi is the HTTP side of the server: the handler chain (request IDs, recovery, CORS,
// auth, API-version routing, body limits), the router that serves v1 at /api/v1 and at the unversioned
// /api, JSON 404s for everything unknown, and the server lifecycle with graceful shutdown.
//
// Operations themselves live in v1/ (and v2/); error rendering lives in apierr. This package must not
// contain business rules.
package httpapi
