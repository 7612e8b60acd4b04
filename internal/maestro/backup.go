package maestro

// BackupInfo describes a finished backup file: a complete copy of the database that passed
// PRAGMA integrity_check.
type BackupInfo struct {
	Path      string `json:"path" doc:"Where the backup file is."`
	SizeBytes int64  `json:"sizeBytes" doc:"Size of the file in bytes."`
	Integrity string `json:"integrity" doc:"What PRAGMA integrity_check said about the copy: ok."`
	// SchemaVersion is the migration version of the copy.
	SchemaVersion int64 `json:"schemaVersion" doc:"The database schema (migration) version of the copy."`
	TakenAt       int64 `json:"takenAt" doc:"When the backup started, ms since the epoch: it holds every write committed before."`
	DurationMs    int64 `json:"durationMs" doc:"How long the backup took, in ms."`
}
