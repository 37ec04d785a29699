package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcapq/pcapq/internal/testenv"
)

// readmeCIJob extracts the shell CI job from README.md: the sh block after
// the ci-gate.sh marker.
func readmeCIJob(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "<!-- ci-gate.sh")
	if i < 0 {
		t.Fatal("README.md has no ci-gate.sh block")
	}
	s = s[i:]
	start := strings.Index(s, "```sh\n")
	end := strings.Index(s[start+6:], "\n```")
	if start < 0 || end < 0 {
		t.Fatal("README.md: the ci-gate.sh block is not a ```sh block")
	}
	return s[start+6:start+6+end] + "\n"
}

// TestREADMECIJob runs the README's shell CI job, as written there, in
// network namespaces: a server namespace runs an HTTP server, the client
// namespace runs the job with integration tests that are curl requests.
// The first run records the baseline, the second (same tests) passes, the
// third (tests that call a new endpoint) fails the build naming it.
func TestREADMECIJob(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pcapq and sets up network namespaces; run without -short")
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "the CI job test needs root (network namespaces, tcpdump)")
	}
	for _, tool := range []string{"tcpdump", "ip", "curl", "python3", "gzip", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "%s not installed", tool)
		}
	}
	script := readmeCIJob(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "bin")
	if out, err := exec.Command("go", "build", "-tags=duckdb_arrow", "-o", filepath.Join(bin, "pcapq"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	p := fmt.Sprintf("pqj%d", os.Getpid()%10000)
	srv, cli := p+"s", p+"c"
	const server = "10.155.0.1"
	run("ip", "netns", "add", srv)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", srv).Run() })
	run("ip", "netns", "add", cli)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", cli).Run() })
	run("ip", "link", "add", p+"a", "type", "veth", "peer", "name", p+"b")
	run("ip", "link", "set", p+"a", "netns", srv)
	run("ip", "link", "set", p+"b", "netns", cli)
	run("ip", "-n", srv, "addr", "add", server+"/24", "dev", p+"a")
	run("ip", "-n", cli, "addr", "add", "10.155.0.2/24", "dev", p+"b")
	for _, ns := range [][2]string{{srv, p + "a"}, {cli, p + "b"}} {
		run("ip", "-n", ns[0], "link", "set", "lo", "up")
		run("ip", "-n", ns[0], "link", "set", ns[1], "up")
	}
	www := filepath.Join(dir, "www")
	os.MkdirAll(filepath.Join(www, "api"), 0o755)
	os.WriteFile(filepath.Join(www, "index.html"), []byte("<html>hello</html>\n"), 0o644)
	os.WriteFile(filepath.Join(www, "api", "status.json"), []byte(`{"ok":true}`+"\n"), 0o644)
	httpd := exec.Command("ip", "netns", "exec", srv, "python3", "-m", "http.server", "8000", "--bind", server, "--directory", www)
	if err := httpd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { httpd.Process.Kill(); httpd.Wait() })
	for i := 0; ; i++ { // wait for the server
		if exec.Command("ip", "netns", "exec", cli, "curl", "-s", "-o", "/dev/null", "http://"+server+":8000/").Run() == nil {
			break
		}
		if i == 50 {
			t.Fatal("the HTTP server did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	work := filepath.Join(dir, "repo")
	os.MkdirAll(work, 0o755)
	os.WriteFile(filepath.Join(work, "ci-gate.sh"), []byte(script), 0o755)
	tests := `#!/bin/sh
# the integration tests: requests to the service under test
for i in 1 2 3 4 5 6 7 8 9 10; do
  curl -s -o /dev/null http://` + server + `:8000/ || exit 1
  curl -s -o /dev/null http://` + server + `:8000/api/status.json || exit 1
  curl -s -o /dev/null http://` + server + `:8000/items/$i || exit 1
done
for u in ${EXTRA:-}; do curl -s -o /dev/null "http://` + server + `:8000$u"; done
`
	os.WriteFile(filepath.Join(work, "run-integration-tests.sh"), []byte(tests), 0o755)
	job := func(extra string) (int, string) {
		cmd := exec.Command("ip", "netns", "exec", cli, "sh", "ci-gate.sh")
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "IFACE="+p+"b", "EXTRA="+extra)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}
	// 1: no baseline yet
	code, out := job("")
	if code != 0 || !strings.Contains(out, "recorded ci/baseline.pcap.gz") {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	if st, err := os.Stat(filepath.Join(work, "ci", "baseline.pcap.gz")); err != nil || st.Size() < 1000 {
		t.Fatalf("baseline: %v", err)
	}
	// 2: the same tests pass the gate
	code, out = job("")
	if code != 0 || !strings.Contains(out, "pcapq diff: PASS") {
		t.Errorf("same tests: exit %d\n%s", code, out)
	}
	var suites struct {
		Suite struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	b, err := os.ReadFile(filepath.Join(work, "pcapq-out", "diff.xml"))
	if err == nil {
		err = xml.Unmarshal(b, &suites)
	}
	if err != nil || suites.Suite.Tests == 0 || suites.Suite.Failures != 0 {
		t.Errorf("diff.xml after a passing run: %v %+v", err, suites)
	}
	if md, err := os.ReadFile(filepath.Join(work, "pcapq-out", "diff.md")); err != nil || !strings.Contains(string(md), "no rule broken") {
		t.Errorf("diff.md: %v %.100q", err, md)
	}
	// 3: the tests call a new endpoint: the build fails, naming it
	code, out = job("/api/users/7 /api/users/8")
	if code != 1 || !strings.Contains(out, "FAIL new_endpoints:0") || !strings.Contains(out, "GET "+server+":8000 /api/users/{id}") {
		t.Errorf("new endpoint: exit %d\n%s", code, out)
	}
	b, _ = os.ReadFile(filepath.Join(work, "pcapq-out", "diff.xml"))
	if err := xml.Unmarshal(b, &suites); err != nil || suites.Suite.Failures != 1 {
		t.Errorf("diff.xml after the new endpoint: %v %+v\n%s", err, suites, b)
	}
	t.Logf("third run:\n%s", out)
}
