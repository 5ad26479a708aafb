// SPDX-License-Identifier: Apache-2.0

// Command groundtruth preserves, verifies and publishes evidence of alleged
// war crimes and civilian harm. See docs/cli.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"groundtruth/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
