// Package repcache is the representation cache of the v1 reads: the encoded bytes of a GET's 200
// response, kept per request (path, query and Accept) and served again until the next commit.
//
// Every entry carries the store's commit sequence read before its handler ran, and is served only while
// that is still the current sequence: the store advances it after each commit and before it releases
// the committing request or publishes its events, so a client that saw a write succeed (or its event)
// can never be answered from before that write. Nothing else is cached: the reads it serves depend only
// on the database, and errors, other statuses and other routes pass through untouched.
//
// Cached responses carry a strong ETag (a hash of their bytes) and, unless the handler chose otherwise,
// Cache-Control: no-cache (a browser revalidates before each use); a request whose If-None-Match names
// the ETag is answered 304 without a body.
package repcache
