// Package obs is the server's observability plumbing: structured logging (levels changeable at run
// time), and later metrics, profiling and error tracking. It knows nothing of the domain.
package obs
