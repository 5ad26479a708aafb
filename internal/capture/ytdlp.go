// SPDX-License-Identifier: Apache-2.0

package capture

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ytDlpTimeout bounds one yt-dlp run within the capture's own deadline.
const ytDlpTimeout = 5 * time.Minute

// runYtDlp downloads the video of pageURL with yt-dlp through a guarded
// proxy, stores the file as a WARC resource record and the info JSON as a
// metadata record referring to the page's response (refersTo), and returns
// both as files under dir/video. A missing yt-dlp is reported, not fatal.
func runYtDlp(ctx context.Context, cfg *Config, rec *recorder, pageURL, dir, refersTo string) ([]File, error) {
	if cfg.YtDlp == "-" {
		return nil, fmt.Errorf("video: yt-dlp disabled")
	}
	bin, err := lookTool(cfg.YtDlp, "yt-dlp")
	if err != nil {
		return nil, fmt.Errorf("video: %v; install the Debian package yt-dlp to download embedded video", err)
	}
	proxy, err := startGuardProxy(rec.guard, cfg.IdleTimeout)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	defer proxy.Close()
	outDir := filepath.Join(dir, "video")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, ytDlpTimeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, bin,
		"--ignore-config", "--no-playlist", "--write-info-json", "--no-progress", "--no-color",
		"--no-cache-dir", "--no-mtime", "--no-part", "--restrict-filenames",
		"--max-filesize", strconv.FormatInt(cfg.MaxBytes, 10),
		"--socket-timeout", strconv.Itoa(max(1, int(cfg.HeaderTimeout/time.Second))),
		"--proxy", proxy.URL(),
		"--user-agent", cfg.UserAgent,
		"-o", filepath.Join(outDir, "%(id).60s.%(ext)s"),
		"--", pageURL)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), "HOME="+outDir) // no user config or cache
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 16 << 10}
	runErr := cmd.Run()

	entries, _ := os.ReadDir(outDir)
	var files []File
	var source string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".info.json") {
			b, err := os.ReadFile(filepath.Join(outDir, e.Name()))
			if err != nil {
				continue
			}
			var meta struct {
				URL        string `json:"url"`
				WebpageURL string `json:"webpage_url"`
			}
			json.Unmarshal(b, &meta)
			source = cmpOr(meta.URL, pageURL)
			if _, err := rec.warc.metadata(pageURL, "application/json", time.Now().UTC(), refersTo, bytes.NewReader(b)); err != nil {
				return files, fmt.Errorf("video: write info JSON to the WARC: %w", err)
			}
			files = append(files, File{Path: "video/" + e.Name(), Name: e.Name(), ContentType: "application/json", SourceURL: pageURL, Role: "info"})
		}
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".info.json") {
			continue
		}
		p := filepath.Join(outDir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		ct := cmpOr(mime.TypeByExtension(filepath.Ext(e.Name())), "application/octet-stream")
		_, err = rec.warc.resource(cmpOr(source, pageURL), ct, time.Now().UTC(), f)
		f.Close()
		if err != nil {
			return files, fmt.Errorf("video: write %s to the WARC: %w", e.Name(), err)
		}
		files = append(files, File{Path: "video/" + e.Name(), Name: e.Name(), ContentType: ct, SourceURL: cmpOr(source, pageURL), Role: "media"})
	}
	if runErr != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "ERROR:"); i >= 0 {
			msg = msg[i:]
		}
		if len(msg) > 500 {
			msg = msg[:500]
		}
		return files, fmt.Errorf("video: yt-dlp on %s: %v: %s", pageURL, runErr, msg)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("video: yt-dlp found no video on %s", pageURL)
	}
	return files, nil
}
