package testserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Restart starts the server again on the same address with the same
// arguments, after Kill (or ends it first if it still runs), and waits until
// the address accepts connections: a server that went away and came back.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	again := startOn(s.t, s.network, s.Addr, s.cmd.Path, s.cmd.Args[1:]...)
	s.cmd = again.cmd
}

// WaitFrozen waits until every thread of a server sent Freeze has stopped.
// SIGSTOP takes effect asynchronously: a request sent the moment Freeze
// returns may still be answered. Where /proc is missing it waits briefly.
func (s *Server) WaitFrozen() {
	s.t.Helper()
	if s.cmd.Process == nil {
		return
	}
	tasks := fmt.Sprintf("/proc/%d/task", s.cmd.Process.Pid)
	if _, err := os.Stat(tasks); err != nil {
		time.Sleep(100 * time.Millisecond)
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for !allStopped(tasks) {
		if time.Now().After(deadline) {
			s.t.Fatalf("%s did not stop within 5s of SIGSTOP", s.Addr)
		}
		time.Sleep(time.Millisecond)
	}
}

// allStopped reports whether every thread under /proc/PID/task is in the
// stopped state ("T").
func allStopped(tasks string) bool {
	stats, err := filepath.Glob(filepath.Join(tasks, "*", "stat"))
	if err != nil || len(stats) == 0 {
		return false
	}
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		// The state follows the parenthesised command name, which may hold spaces.
		i := strings.LastIndexByte(string(data), ')')
		if i < 0 || i+2 >= len(data) || data[i+2] != 'T' {
			return false
		}
	}
	return true
}
