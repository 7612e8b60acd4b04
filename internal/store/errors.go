package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors for the driver failures callers act on. Match them with errors.Is.
var (
	ErrNotFound   = errors.New("store: not found")
	ErrUnique     = errors.New("store: unique constraint violated")
	ErrForeignKey = errors.New("store: foreign key constraint violated")
	ErrCheck      = errors.New("store: check constraint violated")
	// ErrStorage marks failures of the storage itself (disk full, I/O error, read-only or corrupt file):
	// the request was fine, the disk was not. They surface as 503 STORAGE_UNAVAILABLE.
	ErrStorage = errors.New("store: storage unavailable")
	// ErrBusy is returned when the database stayed locked past busy_timeout.
	ErrBusy = errors.New("store: database busy")
)

// dbError keeps the driver error as the cause and a sentinel as its kind, so that errors.Is finds the
// kind and the log still shows what SQLite said.
type dbError struct {
	kind error
	err  error
}

func (e *dbError) Error() string        { return fmt.Sprintf("%v: %v", e.kind, e.err) }
func (e *dbError) Unwrap() []error      { return []error{e.kind, e.err} }
func (e *dbError) Is(target error) bool { return target == e.kind }

// mapErr classifies a driver error by its SQLite result code (never by message text). Errors that are
// not driver errors pass through unchanged.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	code := se.Code()
	switch code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return &dbError{ErrUnique, err}
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return &dbError{ErrForeignKey, err}
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return &dbError{ErrCheck, err}
	}
	switch code & 0xff { // the primary result code
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return &dbError{ErrStorage, err}
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return &dbError{ErrBusy, err}
	}
	return err
}

// IsStorageFailure reports whether err means the storage itself failed (as opposed to a bad request or
// a bug): the kind of failure that should open the write breaker.
func IsStorageFailure(err error) bool {
	return errors.Is(err, ErrStorage)
}

// domainErr turns storage-level failures into the domain errors services pass on unchanged.
func domainErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrStorage):
		return &maestro.Error{Code: maestro.CodeStorageDown, Message: "storage is unavailable, retry later", Err: err}
	case errors.Is(err, ErrBusy):
		return &maestro.Error{Code: maestro.CodeOverloaded, Message: "database is busy, retry later", Err: err}
	case errors.Is(err, ErrCheck):
		// The schema's CHECKs (json_valid, enums, NOT NULL) are the last line behind the services'
		// validation: a value that slips past it is still the request's fault, never a server error.
		return &maestro.Error{Code: maestro.CodeValidation, Message: "a value of the request was refused by the database's constraints", Err: err}
	}
	return err
}
