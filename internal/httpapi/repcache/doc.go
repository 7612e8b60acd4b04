// Package repcache is the representation cache of the hot reads: the encoded bytes of a GET's 200
// response, kept per request (path, query and Accept) and served again until the sequence it was read
// at moves. Which routes are cached is the caller's choice (httpapi lists them: the v1 reads of tasks,
// projects and sessions and the v2 task list); so is the sequence (httpapi adds the feature flags'
// changes to the store's commits, since flags gate what those routes answer).
//
// Every entry carries the store's commit sequence read before its handler ran, and is served only while
// that is still the current sequence: the store advances it after each commit and before it releases
// the committing request or publishes its events, so a client that saw a write succeed (or its event)
// can never be answered from before that write. Nothing else is cached: the routes it is given must
// depend only on what the sequence counts (no clock, no files), and errors, other statuses and other
// routes pass through untouched. Concurrent misses of one key at one sequence share one handler run.
//
// Cached responses carry a strong ETag (a hash of their bytes) and, unless the handler chose otherwise,
// Cache-Control: no-cache (a browser revalidates before each use); a request whose If-None-Match names
// the ETag is answered 304 without a body.
package repcache
