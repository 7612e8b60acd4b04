package maestro

// The predecessor import reads the TypeScript server's data directory (SPEC §7) into the database. Its
// report says, per entity, what was imported and what was not, and lists every file and record that
// needs a person's attention.

// PredecessorOptions configure a predecessor import.
type PredecessorOptions struct {
	// Update overwrites records that are already present with the files' values (else they are left
	// as they are and counted as existing).
	Update bool
	// DryRun reads, checks and counts everything and writes nothing.
	DryRun bool
	// Actor, Method and Route describe who ran the import, for its audit row.
	Actor, Method, Route string
}

// ImportTally counts what an import did with the records of one entity.
type ImportTally struct {
	// Imported records are new.
	Imported int
	// Updated records were already present and were overwritten (only with Update).
	Updated int
	// Existing records were already present and were left as they are.
	Existing int
	// Skipped records were read but not stored (each is listed in Problems with the reason).
	Skipped int
	// Corrupt files could not be read as a record (each is listed in Problems).
	Corrupt int
}

// Kinds of PredecessorProblem.
const (
	// ProblemCorrupt: the file could not be read as a record and was skipped.
	ProblemCorrupt = "corrupt"
	// ProblemSkipped: the record was read but this server cannot hold it; it was skipped.
	ProblemSkipped = "skipped"
	// ProblemChanged: the record was imported with a change (a dangling reference dropped, …).
	ProblemChanged = "changed"
)

// PredecessorProblem is one file or record an import reports: Kind is a Problem* constant, Entity one of
// project, task, session, queue, template, File the path inside the data directory.
type PredecessorProblem struct {
	Kind    string
	Entity  string
	ID      string
	File    string
	Message string
}

// PredecessorReport is what a predecessor import did (or, with DryRun, would do).
type PredecessorReport struct {
	DryRun    bool
	Update    bool
	Projects  ImportTally
	Tasks     ImportTally
	Sessions  ImportTally
	Queues    ImportTally
	Templates ImportTally
	// Links counts task↔session links stored (each once, both sides in the one join table, D5);
	// LinksDropped those naming a task or session that does not exist.
	Links        int
	LinksDropped int
	// Events and Timeline count the session log and timeline entries stored.
	Events   int
	Timeline int
	Problems []PredecessorProblem
}
