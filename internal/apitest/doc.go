// Package apitest runs API scenarios against the real handler chain over a fresh database per test,
// without a network listener: table-driven cases (method, path, body, status, checks), fixtures with
// defaults, and read-back of the events each operation recorded.
//
// It is test support only: production code must never import it.
package apitest
