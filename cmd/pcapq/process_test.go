package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pcapq/pcapq/internal/testenv"
)

// TestMain lets tests run this test binary as pcapq itself, a real
// process (signals, exit statuses, a closed standard output): with
// PCAPQ_AS_MAIN=1 (or PCAPQ_TEST_MAIN=1, as the live tests set it, inside
// a network namespace) in its environment it runs main on its arguments.
func TestMain(m *testing.M) {
	if os.Getenv("PCAPQ_AS_MAIN") == "1" || os.Getenv("PCAPQ_TEST_MAIN") == "1" {
		os.Args = append([]string{"pcapq"}, os.Args[1:]...)
		main()
		return // main exits
	}
	os.Exit(m.Run())
}

// pcapqCmd is pcapq as a child process (see TestMain).
func pcapqCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "PCAPQ_AS_MAIN=1")
	return cmd
}

// exitCode runs cmd and returns its exit status and standard error.
func exitCode(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	var errb bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &errb
	}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, errb.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), errb.String()
	}
	t.Fatalf("%v: %v", cmd.Args, err)
	return 0, ""
}

// Every input that is not a capture, or cannot be read, gives exit status
// 2 and a message naming it, from ingest and from the one-shot query; so
// does a --db that is not a DuckDB database.
func TestExitStatusNotCapture(t *testing.T) {
	dir := t.TempDir()
	html := filepath.Join(dir, "page.html")
	empty := filepath.Join(dir, "empty.pcap")
	unreadable := filepath.Join(dir, "secret.pcap")
	os.WriteFile(html, []byte("<html><body>hello</body></html>"), 0o644)
	os.WriteFile(empty, nil, 0o644)
	pcap, _ := os.ReadFile("../../testdata/http-gzip.pcap")
	os.WriteFile(unreadable, pcap, 0o000)
	cases := []struct{ name, path, says string }{
		{"html", html, "not a pcap"},
		{"empty", empty, "empty"},
		{"devnull", "/dev/null", "empty"},
		{"directory", dir, "directory"},
		{"missing", filepath.Join(dir, "missing.pcap"), "no such file"},
		{"unreadable", unreadable, "permission denied"},
	}
	for _, tc := range cases {
		for _, verb := range []string{"ingest", "query"} {
			t.Run(tc.name+"/"+verb, func(t *testing.T) {
				args := []string{"ingest", "-q", tc.path, "-o", filepath.Join(t.TempDir(), "x.duckdb")}
				if verb == "query" {
					args = []string{"query", tc.path, "SELECT count(*) FROM packets"}
				}
				cmd := pcapqCmd(t, args...)
				if tc.name == "unreadable" && os.Geteuid() == 0 {
					// root reads any file: drop the capabilities that let it.
					setpriv, err := exec.LookPath("setpriv")
					if err != nil {
						testenv.Missing(t, "running as root without setpriv (util-linux): cannot make a file unreadable")
					}
					cmd = exec.Command(setpriv, append([]string{"--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search", cmd.Path}, args...)...)
					cmd.Env = append(os.Environ(), "PCAPQ_AS_MAIN=1")
				}
				code, stderr := exitCode(t, cmd)
				if code != 2 {
					t.Errorf("exit %d, want 2: %s", code, stderr)
				}
				if !strings.Contains(stderr, tc.path) || !strings.Contains(strings.ToLower(stderr), tc.says) {
					t.Errorf("message should name %s and say %q: %q", tc.path, tc.says, stderr)
				}
			})
		}
	}
	for _, db := range []string{"../../testdata/http-gzip.pcap", empty, dir, filepath.Join(dir, "missing.duckdb")} {
		code, _, stderr := pcapqRun(t, "query", "-d", db, "SELECT 1")
		if code != 2 || !strings.Contains(stderr, db) {
			t.Errorf("query -d %s: exit %d, want 2 and a message naming it: %q", db, code, stderr)
		}
	}
}

// stalledStdin starts cmd with a capture's first bytes on its standard
// input, kept open without more, and returns once pcapq has read some of
// them (it is ingesting, and waits for more).
func stalledStdin(t *testing.T, cmd *exec.Cmd) io.WriteCloser {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Process.Kill(); cmd.Wait() })
	data, err := os.ReadFile(smallPcap)
	if err != nil {
		t.Fatal(err)
	}
	// More than a pipe holds (64 KiB): the write returns once pcapq read.
	done := make(chan error, 1)
	go func() { _, err := in.Write(data[:400_000]); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("pcapq did not read its standard input")
	}
	return in
}

// waitExit waits for a started cmd and returns its exit status.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode()
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("pcapq did not stop within 60 s")
	}
	return -1
}

// SIGTERM gives exit status 143 and SIGINT 130, during an ingest, during
// the one-shot query's ingest, and during a query; an interrupted pipe
// ingest keeps what it committed (marked incomplete), and the one-shot
// query removes its temporary folder.
func TestSignalExitStatus(t *testing.T) {
	base := t.TempDir()
	db := filepath.Join(base, "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "../../testdata/http-pipelined.pcap", "-o", db); code != 0 {
		t.Fatal(stderr)
	}
	bomb := writeTemp(t, "bomb.zst", zstdZeros(t, 8<<10)) // 8 GiB of zeros
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		want := 128 + int(sig)
		t.Run("ingest/"+sig.String(), func(t *testing.T) {
			// A file that takes long to read: 8 GiB of zeros, zstd.
			var errb bytes.Buffer
			cmd := pcapqCmd(t, "ingest", "-q", bomb, "-o", db, "--max-ratio", "100000000")
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			cmd.Process.Signal(sig)
			if code := waitExit(t, cmd); code != want {
				t.Errorf("exit %d, want %d: %s", code, want, errb.String())
			}
			if !strings.Contains(errb.String(), "interrupted") {
				t.Errorf("message: %q", errb.String())
			}
			code, out, stderr := pcapqRun(t, "query", "-d", db, "-f", "csv", "SELECT count(*) FROM captures")
			if code != 0 || strings.TrimSpace(out) != "count_star()\n1" {
				t.Errorf("after the signal the database holds %q (%s), want only the first capture", out, stderr)
			}
		})
		t.Run("pipe/"+sig.String(), func(t *testing.T) {
			// A pipe is live (rows are committed as they arrive): a signal
			// ends it as Ctrl-C ends tcpdump -w -, keeping what was read,
			// with status 0; the stream cut inside a record is incomplete.
			pdb := filepath.Join(t.TempDir(), "p.duckdb")
			var errb bytes.Buffer
			cmd := pcapqCmd(t, "ingest", "-q", "-", "-o", pdb)
			cmd.Stderr = &errb
			stalledStdin(t, cmd)
			cmd.Process.Signal(sig)
			if code := waitExit(t, cmd); code != 0 {
				t.Errorf("exit %d, want 0: %s", code, errb.String())
			}
			code, out, stderr := pcapqRun(t, "query", "-d", pdb, "-f", "csv", "SELECT (packets > 0) || ' ' || complete FROM captures")
			if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 || lines[1] != "true false" {
				t.Errorf("after the signal the pipe's database holds %q (%s), want its packets, incomplete", out, stderr)
			}
		})
		t.Run("oneshot/"+sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			var errb bytes.Buffer
			cmd := pcapqCmd(t, "query", "-", "SELECT count(*) FROM packets")
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			cmd.Stderr = &errb
			stalledStdin(t, cmd)
			cmd.Process.Signal(sig)
			if code := waitExit(t, cmd); code != want {
				t.Errorf("exit %d, want %d: %s", code, want, errb.String())
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "pcapq-*")); len(left) > 0 {
				t.Errorf("temporary folders left: %v", left)
			}
		})
		t.Run("query/"+sig.String(), func(t *testing.T) {
			var errb bytes.Buffer
			cmd := pcapqCmd(t, "query", "-d", db, "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range = -1")
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait until the query has used CPU time after opening the
			// database: it is running, and main has set its signal
			// handlers (on a loaded machine the packages' start-up alone
			// can take 30 ms of CPU time, and a signal then kills).
			waitOpen(t, cmd.Process.Pid, db)
			waitCPU(t, cmd.Process.Pid, 30*time.Millisecond)
			cmd.Process.Signal(sig)
			if code := waitExit(t, cmd); code != want {
				t.Errorf("exit %d, want %d: %s", code, want, errb.String())
			}
		})
	}
}

// waitOpen waits until process pid has file path open.
func waitOpen(t *testing.T, pid int, path string) {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	fds := "/proc/" + strconv.Itoa(pid) + "/fd"
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ents, err := os.ReadDir(fds)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if l, _ := os.Readlink(filepath.Join(fds, e.Name())); l == abs {
				return
			}
		}
	}
	t.Fatalf("process %d did not open %s", pid, abs)
}

// waitCPU waits until process pid has used at least d of CPU time.
func waitCPU(t *testing.T, pid int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		// Fields after the command name (in parentheses): utime is the 12th.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		ut, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		if time.Duration(ut+st)*10*time.Millisecond >= d { // clock ticks of 10 ms
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the query did not start")
}

// A one-shot query killed with SIGKILL leaves its temporary folder; the
// next one-shot query removes it (its lock is free), and leaves alone the
// folders of runs still alive.
func TestKilledQueryTempDirRemoved(t *testing.T) {
	tmp := t.TempDir()
	cmd := pcapqCmd(t, "query", "-", "SELECT count(*) FROM packets")
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	stalledStdin(t, cmd)
	killed, _ := filepath.Glob(filepath.Join(tmp, spillPrefix+strconv.Itoa(cmd.Process.Pid)+"-*"))
	if len(killed) != 1 {
		t.Fatalf("the running query's temporary folder: found %v", killed)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(killed[0]); err != nil {
		t.Fatalf("a killed run cannot remove its folder, yet: %v", err)
	}

	// A live run's folder (this process holds its lock), one being
	// created by a live process (no lock file yet, this PID), one whose
	// creator died before locking it, and an old version's folder of a
	// dead process.
	live, err := newSpillDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer live.remove()
	creating := filepath.Join(tmp, spillPrefix+strconv.Itoa(os.Getpid())+"-x")
	deadPid := exitedPid(t)
	diedBeforeLock := filepath.Join(tmp, spillPrefix+strconv.Itoa(deadPid)+"-y")
	oldVersion := filepath.Join(tmp, "pcapq-duckdb-"+strconv.Itoa(deadPid))
	other := filepath.Join(tmp, "not-pcapq")
	for _, d := range []string{creating, diedBeforeLock, oldVersion, other} {
		os.Mkdir(d, 0o700)
	}

	t.Setenv("TMPDIR", tmp)
	if code, out, stderr := pcapqRun(t, "query", "-f", "csv", "../../testdata/http-gzip.pcap", "SELECT count(*) FROM packets"); code != 0 || out != "count_star()\n23\n" /* capinfos: 23 packets */ {
		t.Fatalf("next one-shot query: exit %d, %q %s", code, out, stderr)
	}
	for path, keep := range map[string]bool{killed[0]: false, diedBeforeLock: false, oldVersion: false, live.dir: true, creating: true, other: true} {
		_, err := os.Stat(path)
		if kept := err == nil; kept != keep {
			t.Errorf("%s: kept %v, want %v", filepath.Base(path), kept, keep)
		}
	}
	left, _ := filepath.Glob(filepath.Join(tmp, spillPrefix+"*"))
	if len(left) != 2 {
		t.Errorf("after the query: %v, want only the live run's two folders (its own is removed)", left)
	}
}

// exitedPid is the PID of a process that has exited.
func exitedPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if processAlive(cmd.Process.Pid) {
		t.Skip("PID reused at once") // skip-ok: a race of the kernel's PID allocation, not a missing tool
	}
	return cmd.Process.Pid
}

// A closed standard output (pcapq query ... | head -1) stops the query
// quietly with exit status 141, in every text format, and a one-shot
// query removes its temporary folder.
func TestClosedStdout(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "../../testdata/http-gzip.pcap", "-o", db); code != 0 {
		t.Fatal(stderr)
	}
	for _, f := range []string{"csv", "json", "jsonl", "table", "markdown"} {
		for _, oneShot := range []bool{false, true} {
			args := []string{"query", "-d", db, "-f", f, "SELECT range, md5(range::VARCHAR) FROM range(300000)"}
			if oneShot {
				args = []string{"query", "-f", f, "../../testdata/http-gzip.pcap", args[len(args)-1]}
			}
			tmp := t.TempDir()
			cmd := pcapqCmd(t, args...)
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil || line == "" {
				t.Fatalf("%s: first line: %q %v", f, line, err)
			}
			out.Close()
			if code := waitExit(t, cmd); code != 141 || errb.Len() > 0 {
				t.Errorf("%s (one-shot %v): exit %d, stderr %q; want 141 and nothing said", f, oneShot, code, errb.String())
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "pcapq-*")); len(left) > 0 {
				t.Errorf("%s: temporary folders left: %v", f, left)
			}
		}
	}
}

// failWriter fails every write after the first n bytes with ENOSPC.
type failWriter struct {
	n      int
	writes int
}

func (w *failWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.n >= len(p) {
		w.n -= len(p)
		return len(p), nil
	}
	n := w.n
	w.n = 0
	return n, &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.ENOSPC}
}

// fullDevice is a /dev/full to write to: as root, a node of its own in a
// temporary folder, so that a bug removing it cannot remove /dev/full.
func fullDevice(t *testing.T) string {
	if os.Geteuid() == 0 {
		p := filepath.Join(t.TempDir(), "full")
		if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|7); err == nil {
			if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
				f.Close()
				return p
			}
		}
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		testenv.Missing(t, "no /dev/full")
	}
	return "/dev/full"
}

// A failed write of the result, to standard output or to -o FILE, in any
// format, exits non-zero and says why; a failed -o FILE is removed, a
// device (/dev/full) is left alone.
func TestWriteErrorsExitNonZero(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", smallPcap, "-o", db); code != 0 {
		t.Fatal(stderr)
	}
	const q = "SELECT * FROM packets"
	devFull := fullDevice(t)
	for _, f := range []string{"csv", "json", "jsonl", "table", "markdown"} {
		// In process, standard output failing after 1000 bytes.
		w := &failWriter{n: 1000}
		var errb bytes.Buffer
		code := run(context.Background(), []string{"query", "-d", db, "-f", f, q}, nil, w, &errb)
		if code != 1 || !strings.Contains(errb.String(), "no space left on device") {
			t.Errorf("%s to a failing stdout: exit %d, %q", f, code, errb.String())
		}
		// A real process whose standard output is /dev/full.
		full, err := os.OpenFile(devFull, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		cmd := pcapqCmd(t, "query", "-d", db, "-f", f, q)
		cmd.Stdout = full
		code, stderr := exitCode(t, cmd)
		full.Close()
		if code != 1 || !strings.Contains(stderr, "no space left on device") {
			t.Errorf("%s >/dev/full: exit %d, %q", f, code, stderr)
		}
	}
	for _, f := range []string{"csv", "json", "jsonl", "table", "markdown", "parquet"} {
		code, _, stderr := pcapqRun(t, "query", "-d", db, "-f", f, "-o", devFull, q)
		if code != 1 || !strings.Contains(strings.ToLower(stderr), "no space left on device") {
			t.Errorf("%s -o %s: exit %d, %q", f, devFull, code, stderr)
		}
		if st, err := os.Stat(devFull); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("%s is gone or changed: %v", devFull, err)
		}
	}
}

// Exports to a full filesystem (a 1 MiB tmpfs) fail in every format: exit
// 1, a message saying the disk is full, and no partial file left (a
// parquet file that existed before keeps its old content: DuckDB writes a
// temporary file first). Needs root (mount).
func TestDiskFullExport(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.Mkdir(small, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small).CombinedOutput(); err != nil {
		testenv.Missing(t, "cannot mount tmpfs: %v %s", err, out)
	}
	defer exec.Command("umount", "-l", small).Run()
	db := filepath.Join(dir, "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "../../testdata/http-gzip.pcap", "-o", db); code != 0 {
		t.Fatal(stderr)
	}
	// About 1.5 MB in every format, the 10000 rows of table and Markdown
	// included; random hashes, so parquet cannot compress it under 1 MiB.
	const q = "SELECT i, md5(i::VARCHAR) a, md5((i+1)::VARCHAR) b, md5(random()::VARCHAR) c, md5(random()::VARCHAR) d FROM range(40000) t(i)"
	for _, f := range []string{"csv", "json", "jsonl", "table", "markdown", "parquet"} {
		out := filepath.Join(small, "out."+f)
		code, _, stderr := pcapqRun(t, "query", "-d", db, "-f", f, "-o", out, q)
		if code != 1 || !strings.Contains(strings.ToLower(stderr), "no space left on device") || !strings.Contains(stderr, "out."+f) {
			t.Errorf("%s: exit %d, %q; want 1 and the disk full, naming the file", f, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: the partial file %s is left", f, out)
		}
		if f != "parquet" && !strings.Contains(stderr, "removed the partial file") {
			t.Errorf("%s: the message should say the partial file was removed: %q", f, stderr)
		}
	}
	old := filepath.Join(small, "old.parquet")
	os.WriteFile(old, []byte("old content"), 0o644)
	if code, _, stderr := pcapqRun(t, "query", "-d", db, "-f", "parquet", "-o", old, q); code != 1 {
		t.Errorf("parquet over an existing file: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(old); string(b) != "old content" {
		t.Errorf("parquet over an existing file on a full disk: it holds %q (%v), want its old content", b, err)
	}
	os.Remove(old)
	// Standard output redirected to a file on the full filesystem.
	f, err := os.Create(filepath.Join(small, "stdout.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := pcapqCmd(t, "query", "-d", db, "-f", "csv", q)
	cmd.Stdout = f
	if code, stderr := exitCode(t, cmd); code != 1 || !strings.Contains(stderr, "no space left on device") {
		t.Errorf(">file on a full disk: exit %d, %q", code, stderr)
	}
}

// pcapq builds and works without the link-time mmap wrapper (build tag
// nommapwrap; a DuckDB or platform where it does not apply): ingest and
// query give the same result, and asking for huge pages says it is not
// available instead of failing.
func TestBuildWithoutMmapWrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pcapq (tens of seconds)")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "no go tool in PATH")
	}
	bin := filepath.Join(t.TempDir(), "pcapq-nowrap")
	build := exec.Command(goTool, "build", "-tags=duckdb_arrow,nommapwrap", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build without the mmap wrap: %v\n%s", err, out)
	}
	if out, _ := exec.Command("nm", bin).Output(); bytes.Contains(out, []byte("__wrap_mmap")) {
		t.Error("the nommapwrap build still has __wrap_mmap")
	}
	db := filepath.Join(t.TempDir(), "t.duckdb")
	code, stderr := exitCode(t, exec.Command(bin, "ingest", "-q", smallPcap, "-o", db))
	if code != 0 || stderr != "" {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	out, err := exec.Command(bin, "query", "-d", db, "-f", "csv", "SELECT count(*) FROM packets").Output()
	_, want, _ := pcapqRun(t, "query", "-f", "csv", smallPcap, "SELECT count(*) FROM packets")
	if err != nil || string(out) != want {
		t.Errorf("query: %q (%v), want %q as the default build gives", out, err, want)
	}
	code, stderr = exitCode(t, exec.Command(bin, "--memory-tuning=hugepages", "version"))
	if code != 0 || !strings.Contains(stderr, "not available") {
		t.Errorf("huge pages asked of a build without the wrap: exit %d, %q; want 0 and a warning", code, stderr)
	}
}

func TestMemoryTuningFlag(t *testing.T) {
	for in, want := range map[string]string{
		"default":             "{GlibcMalloc:true HugePages:true KeepFreed:true}",
		"none":                "{GlibcMalloc:false HugePages:false KeepFreed:false}",
		"malloc,keep-freed":   "{GlibcMalloc:true HugePages:false KeepFreed:true}",
		"hugepages":           "{GlibcMalloc:false HugePages:true KeepFreed:false}",
		"hugepages, malloc":   "{GlibcMalloc:true HugePages:true KeepFreed:false}",
		"keep-freed,turbo":    "error",
		"malloc,,":            "error",
		"Default":             "error",
		"malloc,keep-freed ,": "error",
	} {
		got, err := parseTuning(in)
		s := fmt.Sprintf("%+v", got)
		if err != nil {
			s = "error"
		}
		if s != want {
			t.Errorf("parseTuning(%q) = %s, want %s", in, s, want)
		}
	}
	if code, _, stderr := pcapqRun(t, "--memory-tuning=turbo", "version"); code != 2 || !strings.Contains(stderr, "turbo") {
		t.Errorf("bad --memory-tuning: exit %d, %q", code, stderr)
	}
}
