// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestStartupAllocatesLittle: no package of the binary does costly work
// when it loads (such as hashing a password, 64 MiB of argon2id), since
// every command, help included, would wait for it. GODEBUG=inittrace=1
// makes the runtime print each package initialisation's allocations.
func TestStartupAllocatesLittle(t *testing.T) {
	const most = 4 << 20
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "help")
	cmd.Env = append(testEnv(), "GODEBUG=inittrace=1")
	cmd.Dir = t.TempDir()
	res := finish(t, ctx, cmd, []string{"help"})
	if res.code != 0 {
		t.Fatalf("groundtruth help: exit %d, stderr %q", res.code, res.stderr)
	}
	// init groundtruth/internal/web @2.1 ms, 640 ms clock, 67110000 bytes, 30 allocs
	line := regexp.MustCompile(`(?m)^init (\S+) @.*, (\d+) bytes, \d+ allocs$`)
	inits := line.FindAllStringSubmatch(res.stderr, -1)
	if len(inits) == 0 {
		t.Fatalf("no init trace in stderr %q", res.stderr)
	}
	for _, m := range inits {
		if n, _ := strconv.Atoi(m[2]); n > most {
			t.Errorf("initialising %s allocates %d MiB, want at most %d MiB", m[1], n>>20, most>>20)
		}
	}
}

// TestServeTransportFlags: serve refuses malformed proxy and timeout
// settings with a one-line error and exit status 2.
func TestServeTransportFlags(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	mustRun(t, data, "init")
	for _, args := range [][]string{
		{"serve", "--trusted-proxy", "10.0.0.0/33"},
		{"serve", "--trusted-proxy", "10.0.0.1,proxy.example"},
		{"serve", "--proxy-header", "X-Real-IP"},
		{"serve", "--read-timeout", "1ms"},
		{"serve", "--password-checks", "-1"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			res := run(t, data, args...)
			if res.code != 2 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 || !strings.Contains(res.stderr, args[1]) {
				t.Errorf("groundtruth %s: exit %d, stderr %q; want 2 and one line naming %s", strings.Join(args, " "), res.code, res.stderr, args[1])
			}
		})
	}
}
