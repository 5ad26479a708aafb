// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"groundtruth/internal/jobs"
	"groundtruth/internal/store"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Create(t.Context(), filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// start runs r until the returned stop is called, or the test ends; stop
// waits for Run to return.
func start(t *testing.T, r *jobs.Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return 10 s after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// fast are options for tests: short polls and backoff.
func fast(o jobs.Options) jobs.Options {
	if o.Poll == 0 {
		o.Poll = 10 * time.Millisecond
	}
	if o.Backoff == nil {
		o.Backoff = func(int) time.Duration { return time.Millisecond }
	}
	return o
}

// waitState waits until job id is in state and returns it.
func waitState(t *testing.T, s *store.Store, id int64, state string) *store.Job {
	t.Helper()
	return waitJob(t, s, id, state, func(j *store.Job) bool { return j.State == state })
}

// waitJob waits until job id satisfies ok, described by want, and returns
// it.
func waitJob(t *testing.T, s *store.Store, id int64, want string, ok func(*store.Job) bool) *store.Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := s.Job(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s (attempt %d, error %q) after 10 s, want %s", id, j.State, j.Attempts, j.Error, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recv waits for a value from c, failing the test after 10 s.
func recv[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s after 10 s", what)
		panic("unreachable")
	}
}

func enqueue(t *testing.T, r *jobs.Runner, kind string, input any) int64 {
	t.Helper()
	id, err := r.Enqueue(t.Context(), kind, input, "ana")
	if err != nil {
		t.Fatalf("Enqueue(%s, %v): %v", kind, input, err)
	}
	return id
}

func TestFIFO(t *testing.T) {
	s := newStore(t)
	var (
		mu    sync.Mutex
		order []int
	)
	h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
		var n int
		fmt.Sscan(string(j.Input), &n)
		mu.Lock()
		order = append(order, n)
		mu.Unlock()
		return nil, nil
	}
	r := jobs.New(s, map[string]jobs.Handler{"capture": h}, fast(jobs.Options{Workers: 1}))
	var ids []int64
	for i := range 6 {
		ids = append(ids, enqueue(t, r, "capture", i))
	}
	start(t, r)
	for _, id := range ids {
		waitState(t, s, id, store.JobDone)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int{0, 1, 2, 3, 4, 5}; !slices.Equal(order, want) {
		t.Errorf("jobs ran in order %v, want %v", order, want)
	}
}

func TestBoundedConcurrency(t *testing.T) {
	const workers = 3
	s := newStore(t)
	var (
		now, peak atomic.Int32
		full      = make(chan struct{})
		fullOnce  sync.Once
	)
	h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
		n := now.Add(1)
		defer now.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if n == workers {
			fullOnce.Do(func() { close(full) })
		}
		// Hold the slot until every worker is busy, so that a runner
		// allowing more would be caught.
		select {
		case <-full:
			time.Sleep(5 * time.Millisecond)
		case <-time.After(5 * time.Second):
		}
		return []byte(`true`), nil
	}
	r := jobs.New(s, map[string]jobs.Handler{"capture": h}, fast(jobs.Options{Workers: workers}))
	var ids []int64
	for i := range 4 * workers {
		ids = append(ids, enqueue(t, r, "capture", i))
	}
	start(t, r)
	for _, id := range ids {
		waitState(t, s, id, store.JobDone)
	}
	select {
	case <-full:
	default:
		t.Errorf("never %d jobs at once", workers)
	}
	if p := peak.Load(); p > workers {
		t.Errorf("%d jobs ran at once, want at most %d", p, workers)
	}
}

func TestEnqueueWakesIdleWorkers(t *testing.T) {
	s := newStore(t)
	var started sync.WaitGroup
	started.Add(2)
	both := make(chan struct{})
	go func() { started.Wait(); close(both) }()
	h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
		started.Done()
		select {
		case <-both:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// With an hour between polls, only the wake-ups can start the jobs,
	// and the second only if the first worker passes the wake-up on.
	r := jobs.New(s, map[string]jobs.Handler{"capture": h}, jobs.Options{Workers: 2, Poll: time.Hour})
	start(t, r)
	time.Sleep(20 * time.Millisecond) // let the workers go idle
	// The first job is enqueued behind the runner's back: one wake-up for
	// two jobs.
	a, err := s.EnqueueJob(t.Context(), "capture", []byte(`1`), 1, "ana")
	if err != nil {
		t.Fatal(err)
	}
	b := enqueue(t, r, "capture", 2)
	recv(t, both, "two jobs running at once")
	waitState(t, s, a, store.JobDone)
	waitState(t, s, b, store.JobDone)
}

func TestRetry(t *testing.T) {
	t.Run("fails after max attempts", func(t *testing.T) {
		s := newStore(t)
		var (
			calls   atomic.Int32
			mu      sync.Mutex
			backoff []int
		)
		h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
			calls.Add(1)
			return nil, fmt.Errorf("fetch: 503\n%s", strings.Repeat("<html>", 1000))
		}
		o := fast(jobs.Options{MaxAttempts: 3, Backoff: func(n int) time.Duration {
			mu.Lock()
			backoff = append(backoff, n)
			mu.Unlock()
			return time.Millisecond
		}})
		r := jobs.New(s, map[string]jobs.Handler{"capture": h}, o)
		id := enqueue(t, r, "capture", "x")
		start(t, r)
		j := waitState(t, s, id, store.JobFailed)
		if j.Attempts != 3 || calls.Load() != 3 {
			t.Errorf("failed after %d attempts, %d calls; want 3", j.Attempts, calls.Load())
		}
		if !strings.HasPrefix(j.Error, "fetch: 503 <html>") || strings.Contains(j.Error, "\n") || len(j.Error) > 1000 {
			t.Errorf("stored error (%d bytes) = %.40q, want one bounded line", len(j.Error), j.Error)
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(backoff, []int{1, 2}) {
			t.Errorf("Backoff called for attempts %v, want [1 2]", backoff)
		}
	})
	t.Run("succeeds on second attempt", func(t *testing.T) {
		s := newStore(t)
		h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
			progress(fmt.Sprintf("attempt %d", j.Attempts))
			if j.Attempts == 1 {
				return nil, errors.New("timeout")
			}
			return []byte(`{"sha256":"ab"}`), nil
		}
		r := jobs.New(s, map[string]jobs.Handler{"capture": h}, fast(jobs.Options{}))
		id := enqueue(t, r, "capture", "x")
		start(t, r)
		j := waitState(t, s, id, store.JobDone)
		if j.Attempts != 2 || string(j.Result) != `{"sha256":"ab"}` || j.Error != "" || j.Progress != "attempt 2" {
			t.Errorf("done job = %+v", j)
		}
	})
	t.Run("waits for the backoff", func(t *testing.T) {
		s := newStore(t)
		var offset atomic.Int64 // the fake clock, ahead of the real one
		clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
			return nil, errors.New("down")
		}
		r := jobs.New(s, map[string]jobs.Handler{"capture": h},
			fast(jobs.Options{MaxAttempts: 2, Now: clock, Backoff: func(int) time.Duration { return time.Hour }}))
		id := enqueue(t, r, "capture", "x")
		start(t, r)
		waitJob(t, s, id, "queued after 1 attempt", func(j *store.Job) bool {
			return j.State == store.JobQueued && j.Attempts == 1
		})
		time.Sleep(100 * time.Millisecond) // ten polls
		if j, _ := s.Job(t.Context(), id); j.State != store.JobQueued || j.Attempts != 1 {
			t.Fatalf("before the backoff passed: %s, attempt %d; want queued after 1", j.State, j.Attempts)
		}
		offset.Store(int64(time.Hour))
		if j := waitState(t, s, id, store.JobFailed); j.Attempts != 2 {
			t.Errorf("after the backoff: failed after %d attempts, want 2", j.Attempts)
		}
	})
}

func TestPermanent(t *testing.T) {
	refused := errors.New("refused: private address")
	tests := []struct {
		name      string
		err       error
		permanent bool
	}{
		{"nil", nil, false},
		{"plain", refused, false},
		{"marked", jobs.Permanent(refused), true},
		{"wrapped", fmt.Errorf("capture: %w", jobs.Permanent(refused)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jobs.IsPermanent(tt.err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.permanent)
			}
		})
	}
	if jobs.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	if err := jobs.Permanent(refused); !errors.Is(err, refused) || err.Error() != refused.Error() {
		t.Errorf("Permanent(err) = %v, want it to wrap err and say the same", err)
	}

	s := newStore(t)
	var calls atomic.Int32
	h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
		calls.Add(1)
		return nil, fmt.Errorf("capture: %w", jobs.Permanent(refused))
	}
	r := jobs.New(s, map[string]jobs.Handler{"capture": h}, fast(jobs.Options{MaxAttempts: 5}))
	id := enqueue(t, r, "capture", "http://10.0.0.1/")
	start(t, r)
	j := waitState(t, s, id, store.JobFailed)
	if j.Attempts != 1 || calls.Load() != 1 || j.Error != "capture: refused: private address" {
		t.Errorf("after a permanent error: %d attempts, %d calls, error %q", j.Attempts, calls.Load(), j.Error)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	s := newStore(t)
	h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
		if string(j.Input) == `"bad"` {
			var m map[string]int
			m["x"]++ // nil map: panics
		}
		return []byte(`"ok"`), nil
	}
	r := jobs.New(s, map[string]jobs.Handler{"capture": h}, fast(jobs.Options{Workers: 1}))
	bad, good := enqueue(t, r, "capture", "bad"), enqueue(t, r, "capture", "good")
	start(t, r)
	j := waitState(t, s, bad, store.JobFailed)
	if j.Attempts != 1 || !strings.Contains(j.Error, "panicked") || !strings.Contains(j.Error, "nil map") {
		t.Errorf("panicking job: %d attempts, error %q", j.Attempts, j.Error)
	}
	waitState(t, s, good, store.JobDone) // the worker survived
}

func TestResultMustBeJSON(t *testing.T) {
	s := newStore(t)
	h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
		return []byte("not json"), nil
	}
	r := jobs.New(s, map[string]jobs.Handler{"capture": h}, fast(jobs.Options{}))
	id := enqueue(t, r, "capture", 1)
	start(t, r)
	if j := waitState(t, s, id, store.JobFailed); j.Attempts != 1 || !strings.Contains(j.Error, "not JSON") {
		t.Errorf("job with a bad result: %d attempts, error %q", j.Attempts, j.Error)
	}
}

func TestExpiredLeaseIsReclaimed(t *testing.T) {
	s := newStore(t)
	id, err := s.EnqueueJob(t.Context(), "capture", []byte(`{}`), 3, "ana")
	if err != nil {
		t.Fatal(err)
	}
	// A worker claims the job for a millisecond and dies.
	if j, err := s.ClaimJob(t.Context(), []string{"capture"}, time.Now(), time.Millisecond); err != nil || j == nil || j.ID != id {
		t.Fatalf("ClaimJob = %+v, %v", j, err)
	}
	time.Sleep(5 * time.Millisecond)
	h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) { return nil, nil }
	start(t, jobs.New(s, map[string]jobs.Handler{"capture": h}, fast(jobs.Options{})))
	if j := waitState(t, s, id, store.JobDone); j.Attempts != 2 {
		t.Errorf("reclaimed job done after %d attempts, want 2 (the crashed one counts)", j.Attempts)
	}
}

func TestCancelRunning(t *testing.T) {
	tests := []struct {
		name   string
		lease  time.Duration
		cancel func(r *jobs.Runner, s *store.Store, id int64) error
	}{
		// Through the runner: its context is cancelled at once, long
		// before the lease is renewed.
		{"runner", time.Hour, func(r *jobs.Runner, s *store.Store, id int64) error {
			return r.Cancel(context.Background(), id, "ben")
		}},
		// In the store, as another process would: the worker notices
		// when it renews the lease (every third of it). The lease is long
		// enough that a loaded machine renews it in time: an expired lease
		// would let a second claim start, a second attempt.
		{"store", 6 * time.Second, func(r *jobs.Runner, s *store.Store, id int64) error {
			return s.CancelJob(context.Background(), id, "ben")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			started, stopped := make(chan struct{}), make(chan error, 1)
			h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
				progress("fetching")
				close(started)
				<-ctx.Done()
				stopped <- ctx.Err()
				return nil, ctx.Err()
			}
			r := jobs.New(s, map[string]jobs.Handler{"capture": h}, fast(jobs.Options{Lease: tt.lease}))
			id := enqueue(t, r, "capture", 1)
			start(t, r)
			recv(t, started, "start")
			if j, _ := s.Job(t.Context(), id); j.State != store.JobRunning || j.Progress != "fetching" {
				t.Errorf("running job = %s, progress %q", j.State, j.Progress)
			}
			if err := tt.cancel(r, s, id); err != nil {
				t.Fatal(err)
			}
			recv(t, stopped, "handler return")
			j := waitState(t, s, id, store.JobCancelled)
			if j.CancelledBy != "ben" || j.Attempts != 1 || j.Error != "" {
				t.Errorf("cancelled job = %+v", j)
			}
		})
	}
}

// TestCancelFreesWorkerFromStuckHandler cancels a job whose handler
// ignores its context (a stage stuck in a read that no deadline covers):
// the only worker must be free for the next job all the same, and the
// runner must stop, without waiting for the stuck handler to return.
func TestCancelFreesWorkerFromStuckHandler(t *testing.T) {
	s := newStore(t)
	started, unstick := make(chan struct{}, 2), make(chan struct{})
	t.Cleanup(func() { close(unstick) })
	h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
		if string(j.Input) == `"stuck"` {
			started <- struct{}{}
			<-unstick
		}
		return []byte(`1`), nil
	}
	r := jobs.New(s, map[string]jobs.Handler{"capture": h}, fast(jobs.Options{Workers: 1}))
	stuck := enqueue(t, r, "capture", "stuck")
	stop := start(t, r)
	recv(t, started, "start")
	next := enqueue(t, r, "capture", "next")
	if err := r.Cancel(t.Context(), stuck, "ben"); err != nil {
		t.Fatal(err)
	}
	waitState(t, s, next, store.JobDone)
	if j := waitState(t, s, stuck, store.JobCancelled); j.Attempts != 1 {
		t.Errorf("cancelled job after %d attempts, want 1", j.Attempts)
	}

	// Shutdown while a handler is stuck: Run returns (start's stop fails
	// the test if it takes 10 s) and the job goes back to the queue.
	again := enqueue(t, r, "capture", "stuck")
	recv(t, started, "second start")
	stop()
	if j := waitState(t, s, again, store.JobQueued); j.Attempts != 0 {
		t.Errorf("job interrupted by shutdown: %d attempts, want none counted", j.Attempts)
	}
}

func TestSlowJobDoesNotBlockOthers(t *testing.T) {
	s := newStore(t)
	release := make(chan struct{})
	h := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
		if string(j.Input) == `"slow"` {
			<-release
		}
		return nil, nil
	}
	r := jobs.New(s, map[string]jobs.Handler{"capture": h}, fast(jobs.Options{Workers: 2}))
	slow := enqueue(t, r, "capture", "slow")
	start(t, r)
	for i := range 5 {
		waitState(t, s, enqueue(t, r, "capture", i), store.JobDone)
	}
	if j, _ := s.Job(t.Context(), slow); j.State != store.JobRunning {
		t.Errorf("slow job is %s, want still running", j.State)
	}
	close(release)
	waitState(t, s, slow, store.JobDone)
}

func TestShutdownRequeuesAndRestartRuns(t *testing.T) {
	s := newStore(t)
	started := make(chan struct{})
	blocking := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	r := jobs.New(s, map[string]jobs.Handler{"capture": blocking}, fast(jobs.Options{Workers: 1}))
	running := enqueue(t, r, "capture", 1)
	stop := start(t, r)
	recv(t, started, "start")
	waiting := enqueue(t, r, "capture", 2) // queued behind the running one
	stop()
	j := waitState(t, s, running, store.JobQueued)
	if j.Attempts != 0 || j.Error != "" {
		t.Errorf("job interrupted by shutdown: %d attempts, error %q; want no attempt counted", j.Attempts, j.Error)
	}

	// A new runner, as after a restart, runs both.
	ok := func(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
		return []byte(`1`), nil
	}
	start(t, jobs.New(s, map[string]jobs.Handler{"capture": ok}, fast(jobs.Options{})))
	for _, id := range []int64{running, waiting} {
		if j := waitState(t, s, id, store.JobDone); j.Attempts != 1 {
			t.Errorf("job %d done after %d attempts, want 1", id, j.Attempts)
		}
	}
}

func TestEnqueueChecks(t *testing.T) {
	s := newStore(t)
	r := jobs.New(s, map[string]jobs.Handler{"capture": nil}, jobs.Options{})
	if _, err := r.Enqueue(t.Context(), "analyse", 1, "ana"); err == nil {
		t.Error("Enqueue of a kind with no handler succeeded")
	}
	if _, err := r.Enqueue(t.Context(), "capture", func() {}, "ana"); err == nil {
		t.Error("Enqueue of an input that cannot be JSON succeeded")
	}
	id, err := r.Enqueue(t.Context(), "capture", map[string]string{"url": "https://example.org/"}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.Job(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if string(j.Input) != `{"url":"https://example.org/"}` || j.MaxAttempts != 5 || j.CreatedBy != "ana" {
		t.Errorf("enqueued job = %+v", j)
	}
	if err := jobs.New(s, nil, jobs.Options{}).Run(t.Context()); err == nil {
		t.Error("Run with no handlers succeeded")
	}
}

func TestDefaultBackoff(t *testing.T) {
	tests := []struct {
		attempt  int
		lo, high time.Duration
	}{
		{0, 15 * time.Second, 30 * time.Second},
		{1, 15 * time.Second, 30 * time.Second},
		{2, 30 * time.Second, time.Minute},
		{5, 4 * time.Minute, 8 * time.Minute},
		{7, 15 * time.Minute, 30 * time.Minute},
		{100, 15 * time.Minute, 30 * time.Minute},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 100 {
			d := jobs.DefaultBackoff(tt.attempt)
			if d < tt.lo || d > tt.high {
				t.Errorf("DefaultBackoff(%d) = %v, want within [%v, %v]", tt.attempt, d, tt.lo, tt.high)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("DefaultBackoff(%d) took %d values in 100 calls, want jitter", tt.attempt, len(seen))
		}
	}
}
