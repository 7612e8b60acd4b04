// Package manifesttest helps tests check spawn manifests against the contract the maestro CLI enforces:
// the CLI's strict manifest JSON Schema and the key order of the manifests the predecessor wrote. Both
// are copies of the project's shared contract fixtures, embedded from testdata/, so tests never read
// outside the repository.
//
// It is test support only: nothing in the server imports it.
package manifesttest
