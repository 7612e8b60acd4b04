package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maestro-hq/maestro-server/db"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options configure Open.
type Options struct {
	// Path is the SQLite file; its directory is created when missing.
	Path string
	// Now is the clock used for event timestamps; time.Now when nil.
	Now func() time.Time
	// Logger receives migration and maintenance logs; slog.Default() when nil.
	Logger *slog.Logger
	// ReadConns caps the reader pool; 2 × GOMAXPROCS (at least 4) when zero.
	ReadConns int
	// NoMigrate opens without migrating (the migrate subcommand drives goose itself).
	NoMigrate bool
	// NoBackup skips the online backup taken before migrating a non-empty database (tests).
	NoBackup bool
	// BackupDir is where the backup before a migration goes (<dir of Path>/backups when empty), and
	// BackupKeep how many backups that directory keeps (DefaultBackupKeep when zero).
	BackupDir  string
	BackupKeep int
}

// DefaultBackupKeep is how many backups the backups directory keeps unless told otherwise.
const DefaultBackupKeep = 7

// DefaultBackupDir is the backups directory of a data directory.
func DefaultBackupDir(dataDir string) string { return filepath.Join(dataDir, "backups") }

// Store is the database: a writer pool of one connection, through which every write transaction goes
// in turn, and a reader pool for everything else. WAL lets readers run while the writer writes.
type Store struct {
	w, r *sql.DB
	// wq and rq hold every generated query prepared once (on the writer, and lazily on each reader
	// connection): SQLite then never re-parses a statement, and an insert into tasks never recompiles its
	// triggers. Until the schema is current (NoMigrate) they are unprepared.
	wq, rq *db.Queries
	path   string
	// backupDir and backupKeep place and retain the backup taken before a migration.
	backupDir  string
	backupKeep int
	now        func() time.Time
	log        *slog.Logger
	writeMu    chan struct{}
	// shapes are the prepared statements of the hand-built list queries (shapes.go).
	shapes  shapes
	pub     atomic.Pointer[publisherBox]
	changes changeFeed
	breaker *writeBreaker
	// closeOnce makes Close safe to call more than once; closeErr is what the first call returned.
	closeOnce sync.Once
	closeErr  error
	// commits counts the transactions the writer committed (CommitSeq).
	commits atomic.Uint64
	// writes feeds the writer goroutine (writer.go); closed stops it and writerDone says it stopped.
	writes     chan *writeReq
	closed     chan struct{}
	writerDone chan struct{}
	// stopProbe ends the storage probe; probeDone closes when it has.
	stopProbe context.CancelFunc
	probeDone chan struct{}
}

type publisherBox struct{ p maestro.EventPublisher }

// DSN returns the driver DSN for a database file: busy_timeout first, so that it already applies to the
// other pragmas; WAL with synchronous=NORMAL; foreign keys on; BEGIN IMMEDIATE for write transactions so
// that they take the write lock up front instead of failing to upgrade half-way. The path is escaped:
// SQLite reads a "file:" name as a URI, where '#', '?' and '%' mean something.
func DSN(path string) string {
	return fileURI(path) + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_pragma=temp_store(memory)&_txlock=immediate"
}

// Open opens (creating if needed) and migrates the database at opts.Path.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("store: empty database path")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BackupDir == "" {
		opts.BackupDir = DefaultBackupDir(filepath.Dir(opts.Path))
	}
	if opts.BackupKeep <= 0 {
		opts.BackupKeep = DefaultBackupKeep
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o750); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	w, err := sql.Open("sqlite", DSN(opts.Path))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", opts.Path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Touch the writer first: it creates the file and switches it to WAL before readers open it.
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("store: open %s: %w", opts.Path, mapErr(err))
	}
	r, err := sql.Open("sqlite", DSN(opts.Path))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("store: open %s: %w", opts.Path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	r.SetConnMaxIdleTime(5 * time.Minute)

	s := &Store{
		w: w, r: r, wq: db.New(w), rq: db.New(r), path: opts.Path, now: opts.Now, log: opts.Logger,
		backupDir: opts.BackupDir, backupKeep: opts.BackupKeep,
		writeMu: make(chan struct{}, 1),
	}
	s.writes, s.closed, s.writerDone = make(chan *writeReq, 4*maxBatch), make(chan struct{}), make(chan struct{})
	go s.runWriter()
	s.breaker = newWriteBreaker(s)
	pctx, stop := context.WithCancel(context.Background())
	s.stopProbe, s.probeDone = stop, make(chan struct{})
	go s.probeWrites(pctx, s.probeDone)
	if !opts.NoMigrate {
		if err := s.migrateUp(ctx, !opts.NoBackup); err != nil {
			_ = s.Close()
			return nil, err
		}
		if err := s.prepare(ctx); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// prepare prepares every generated query on both pools.
func (s *Store) prepare(ctx context.Context) error {
	wq, err := db.Prepare(ctx, s.w)
	if err != nil {
		return fmt.Errorf("store: prepare queries: %w", mapErr(err))
	}
	rq, err := db.Prepare(ctx, s.r)
	if err != nil {
		_ = wq.Close()
		return fmt.Errorf("store: prepare queries: %w", mapErr(err))
	}
	s.wq, s.rq = wq, rq
	return nil
}

// CommitSeq returns the number of write transactions committed since the store opened. It advances
// after each commit and before the committing requests are released or their events published, so a
// value read before a read began names a state at least as old as what that read sees — what the HTTP
// layer's representation cache relies on to never serve a response from before a write it reported.
func (s *Store) CommitSeq() uint64 { return s.commits.Load() }

// BackupDir is the directory backups go to, and BackupKeep how many it keeps.
func (s *Store) BackupDir() string { return s.backupDir }

// BackupKeep is how many backups BackupDir keeps (BACKUP_KEEP).
func (s *Store) BackupKeep() int { return s.backupKeep }

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// SetPublisher sets where committed events go. Until it is called, events are only stored.
func (s *Store) SetPublisher(p maestro.EventPublisher) {
	s.pub.Store(&publisherBox{p})
}

// Close checkpoints the WAL into the main file (so that the file alone is a complete database) and
// closes both pools.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	s.stopProbe()
	<-s.probeDone
	s.stopChanges()
	close(s.closed)
	<-s.writerDone
	_ = s.wq.Close()
	_ = s.rq.Close()
	s.shapes.close()
	_, cerr := s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return errors.Join(cerr, s.r.Close(), s.w.Close())
}

// Ping checks that the database answers a read.
func (s *Store) Ping(ctx context.Context) error {
	return mapErr(s.r.PingContext(ctx))
}

// PoolStats returns the writer and reader pool statistics (for metrics).
func (s *Store) PoolStats() (writer, reader sql.DBStats) {
	return s.w.Stats(), s.r.Stats()
}
