package maestro

// BackupInfo describes a finished backup file: a complete copy of the database that passed
// PRAGMA integrity_check.
type BackupInfo struct {
	Path      string
	SizeBytes int64
	// Integrity is what PRAGMA integrity_check said about the copy: "ok" for every finished backup.
	Integrity string
	// SchemaVersion is the migration version of the copy.
	SchemaVersion int64
	// TakenAt is when the backup started (ms): the copy holds every write committed before it.
	TakenAt    int64
	DurationMs int64
}
