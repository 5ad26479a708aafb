// SPDX-License-Identifier: Apache-2.0

package web

import (
	"io"
	"os"
	"testing"

	"k8s.io/klog/v2"
)

func TestMain(m *testing.M) {
	klog.LogToStderr(false) // Tessera's progress lines are noise in test output
	klog.SetOutput(io.Discard)
	os.Exit(m.Run())
}
