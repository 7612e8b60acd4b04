package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the driver the server uses, so the raw-write ceiling pays what it pays
)

// The ceilings of DESIGN §10: what this machine can do at all for each kind of request, measured in the
// same run as the server so that every figure is a ratio and not an absolute that swings with the load
// of whoever else shares the machine. They are served by a separate process (this binary in ceiling
// mode) so that, like the server, they have their own scheduler and heap and do not share the load
// generator's.
const (
	ceilHello  = "/hello"  // a bare net/http handler writing a 15-byte JSON body
	ceilWrite  = "/write"  // one single-row INSERT transaction per request (modernc, WAL, NORMAL)
	ceilCached = "/cached" // a handler writing cached bytes: the server's own v1 list of 1,000 tasks
)

// helloBody is the 15-byte JSON body of the hello ceiling.
var helloBody = []byte(`{"status":"ok"}`)

// rawDSN mirrors the server's store.DSN: busy_timeout, WAL, synchronous=NORMAL, foreign keys, an
// in-memory temp store and BEGIN IMMEDIATE for write transactions.
func rawDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_pragma=temp_store(memory)&_txlock=immediate"
}

// runCeiling serves the three ceilings on a loopback port and prints "ceiling listening ADDR" once it
// listens. It stops on SIGTERM or when its standard input closes (its parent went away).
func runCeiling(args []string) error {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to serve the ceilings on")
	cached := fs.String("cached", "", "file whose bytes /cached writes (default: a generated ~400 KB JSON array)")
	dbPath := fs.String("db", "", "SQLite file for /write (default: a temporary one, removed at exit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil || (host != "127.0.0.1" && host != "localhost" && host != "::1") {
		return fmt.Errorf("-listen must be a loopback address: %q", *listen)
	}
	body := syntheticList(1000)
	if *cached != "" {
		if body, err = os.ReadFile(*cached); err != nil {
			return err
		}
	}
	if *dbPath == "" {
		dir, err := os.MkdirTemp("", "maestro-ceiling-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dbPath = filepath.Join(dir, "raw.db")
	}
	db, ins, err := openRawWrite(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ceilHello, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(helloBody)
	})
	cachedLen := strconv.Itoa(len(body))
	mux.HandleFunc("GET "+ceilCached, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", cachedLen)
		_, _ = w.Write(body)
	})
	var n atomic.Int64
	mux.HandleFunc("POST "+ceilWrite, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // read the body as the server does
		if err := rawWrite(r.Context(), db, ins, n.Add(1)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(helloBody)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("ceiling listening %s\n", ln.Addr())
	go func() {
		// The parent holds our standard input: when it exits, so do we.
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = srv.Close()
	}()
	err = srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// openRawWrite opens the raw-write database the way the server opens its writer: one connection, WAL,
// synchronous=NORMAL, with a table shaped like a task row and its project index.
func openRawWrite(path string) (*sql.DB, *sql.Stmt, error) {
	db, err := sql.Open("sqlite", rawDSN(path))
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS raw (id TEXT PRIMARY KEY, project_id TEXT NOT NULL,
		title TEXT NOT NULL, description TEXT NOT NULL, priority TEXT NOT NULL, created_at INTEGER NOT NULL)`); err != nil {
		db.Close()
		return nil, nil, err
	}
	if _, err := db.Exec(`CREATE INDEX IF NOT EXISTS raw_project ON raw(project_id, created_at)`); err != nil {
		db.Close()
		return nil, nil, err
	}
	ins, err := db.Prepare(`INSERT INTO raw (id, project_id, title, description, priority, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, ins, nil
}

// rawWrite is one request's worth of the ceiling: BEGIN IMMEDIATE, one INSERT, COMMIT.
func rawWrite(ctx context.Context, db *sql.DB, ins *sql.Stmt, n int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	id := fmt.Sprintf("task_%d_%d", now, n)
	if _, err := tx.StmtContext(ctx, ins).ExecContext(ctx, id, "proj_bench", "bench task "+strconv.FormatInt(n, 10),
		"created by maestro-bench", "high", now); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// syntheticList is a JSON array of n task-shaped objects (~400 bytes each), for a ceiling process run
// on its own without the server's real list.
func syntheticList(n int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"task_1733300000000_%08d","projectId":"proj_1733300000000_abcdefgh","parentId":null,`+
			`"title":"listed task %d","description":"a task in the listed project","initialPrompt":"","status":"todo",`+
			`"sessionStatus":null,"priority":"medium","createdAt":1733300000000,"updatedAt":1733300000000,`+
			`"startedAt":null,"completedAt":null,"sessionIds":[],"skillIds":[],"agentIds":[],"dependencies":[]}`, i, i)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// ceilingProc is a ceiling server this binary started as a child process.
type ceilingProc struct {
	URL   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startCeiling starts this binary in ceiling mode, serving cachedFile on /cached.
func startCeiling(cachedFile string) (*ceilingProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "ceiling", "-listen", "127.0.0.1:0", "-cached", cachedFile)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ceiling listening "); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			_ = cmd.Wait()
			return nil, errors.New("ceiling process exited before listening")
		}
		return &ceilingProc{URL: "http://" + a, cmd: cmd, stdin: stdin}, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, errors.New("ceiling process did not listen within 30s")
	}
}

// Close stops the ceiling process.
func (c *ceilingProc) Close() {
	// Closing its standard input lets it stop by itself and remove its temporary database; a signal
	// is the fallback.
	_ = c.stdin.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
	}
}
