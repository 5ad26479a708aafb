// SPDX-License-Identifier: Apache-2.0

package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"groundtruth/internal/store"
)

// Handler does one attempt at a job of its kind. It must return soon
// after ctx is done. progress records the stage reached, for people
// watching; it may be called from any goroutine. The result, if not nil,
// must be JSON.
type Handler func(ctx context.Context, job *store.Job, progress func(msg string)) (result []byte, err error)

// Options tunes a Runner. Zero fields take the defaults.
type Options struct {
	Workers     int                             // jobs run at once; default 2
	Poll        time.Duration                   // how often idle workers look for due jobs; default 2s
	Lease       time.Duration                   // how long a claim holds without renewal; default 1 min
	MaxAttempts int                             // attempts of a job enqueued through the runner; default 5
	Grace       time.Duration                   // how long a cancelled handler may take to return before its worker moves on; default 2s
	Backoff     func(attempt int) time.Duration // wait after failed attempt n (1-based); default DefaultBackoff
	Now         func() time.Time                // the clock; default time.Now
	// Only, when set, limits the runner to these jobs: a command line
	// works off the jobs it queued, never those another process queued.
	Only []int64
}

// Runner runs the jobs of a store with a set of handlers.
type Runner struct {
	st       *store.Store
	handlers map[string]Handler
	kinds    []string
	o        Options

	// wake holds a token when a job may be due now, so an idle worker
	// looks at once instead of at its next poll.
	wake chan struct{}

	mu      sync.Mutex
	running map[int64]context.CancelCauseFunc // jobs running in this process
}

// errCancelled and errLeaseLost are the causes a running job's context is
// cancelled with, beside the runner's own shutdown.
var (
	errCancelled = errors.New("jobs: job cancelled")
	errLeaseLost = errors.New("jobs: job no longer held by this worker")
)

// DefaultGrace is how long a worker waits for a cancelled handler (job
// cancelled, lease lost, runner shutting down) before it records the
// outcome and moves on without it. Handlers are written to return soon
// after their context ends; the grace only matters for one that does not
// (a hostile server, a stuck child process), which must not hold a worker
// or keep the server from stopping.
const DefaultGrace = 2 * time.Second

// reportTimeout bounds the store writes that record an outcome; they run
// even while the runner shuts down.
const reportTimeout = 10 * time.Second

// New returns a Runner that runs jobs of the kinds in handlers.
func New(st *store.Store, handlers map[string]Handler, o Options) *Runner {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Runner{st: st, handlers: handlers, o: o, wake: make(chan struct{}, 1), running: map[int64]context.CancelCauseFunc{}}
	for k := range handlers {
		r.kinds = append(r.kinds, k)
	}
	slices.Sort(r.kinds)
	return r
}

// DefaultBackoff is 30 s after the first failed attempt, doubling after
// each further one up to 30 min, less a random part of up to half, so that
// jobs that failed together (a site was down) do not retry together.
func DefaultBackoff(attempt int) time.Duration {
	const base, ceiling = 30 * time.Second, 30 * time.Minute
	d := ceiling
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 7 { // 30 s · 2⁶ already exceeds the ceiling
		d = min(base<<(attempt-1), ceiling)
	}
	return d - rand.N(d/2+1)
}

// Permanent marks err as not worth retrying: the job fails at once. It
// returns nil for nil. Wrapping the result keeps it permanent.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked by
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Enqueue adds a job of a kind this runner handles, with input marshalled
// to JSON, on behalf of by, and wakes an idle worker.
func (r *Runner) Enqueue(ctx context.Context, kind string, input any, by string) (int64, error) {
	if _, ok := r.handlers[kind]; !ok {
		return 0, fmt.Errorf("jobs: enqueue %s job: no handler for that kind", kind)
	}
	b, err := json.Marshal(input)
	if err != nil {
		return 0, fmt.Errorf("jobs: enqueue %s job: input: %w", kind, err)
	}
	id, err := r.st.EnqueueJob(ctx, kind, b, r.o.MaxAttempts, by)
	if err != nil {
		return 0, err
	}
	r.signal()
	return id, nil
}

// Cancel cancels a queued or running job on behalf of by. A job running in
// this process has its context cancelled at once; one running elsewhere
// stops at its worker's next report.
func (r *Runner) Cancel(ctx context.Context, id int64, by string) error {
	if err := r.st.CancelJob(ctx, id, by); err != nil {
		return err
	}
	r.mu.Lock()
	cancel := r.running[id]
	r.mu.Unlock()
	if cancel != nil {
		cancel(errCancelled)
	}
	return nil
}

// signal wakes one idle worker, if any is waiting and none is woken yet.
func (r *Runner) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run runs jobs until ctx is done, then cancels the running ones, returns
// them to the queue and returns nil. It waits for every handler to return,
// each for at most Options.Grace after the cancellation.
func (r *Runner) Run(ctx context.Context) error {
	if len(r.kinds) == 0 {
		return errors.New("jobs: run: no handlers")
	}
	var wg sync.WaitGroup
	for range r.o.Workers {
		wg.Go(func() { r.work(ctx) })
	}
	wg.Wait()
	return nil
}

// work is one worker: it claims a due job, runs it, and looks again; when
// none is due it waits for a wake-up or the next poll.
func (r *Runner) work(ctx context.Context) {
	poll := time.NewTimer(r.o.Poll)
	defer poll.Stop()
	for ctx.Err() == nil {
		j, err := r.st.ClaimJob(ctx, r.kinds, r.o.Now(), r.o.Lease, r.o.Only...)
		if err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "jobs: claim failed", slog.String("error", err.Error()))
		}
		if j != nil {
			r.signal() // more may be due: let another idle worker look
			r.run(ctx, j)
			continue
		}
		poll.Reset(r.o.Poll)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-poll.C:
		}
	}
}

// run does one attempt at j and records its outcome.
func (r *Runner) run(ctx context.Context, j *store.Job) {
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.mu.Lock()
	r.running[j.ID] = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, j.ID)
		r.mu.Unlock()
	}()

	// report records progress and renews the lease; a refusal means the
	// job was cancelled or taken over, and the handler must stop.
	report := func(msg string) {
		err := r.st.JobProgress(jctx, j, msg, r.o.Now().Add(r.o.Lease))
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			cancel(errLeaseLost)
		case err != nil && jctx.Err() == nil:
			slog.ErrorContext(ctx, "jobs: progress not recorded", slog.Int64("job_id", j.ID), slog.String("error", err.Error()))
		}
	}
	done := make(chan struct{})
	var renewer sync.WaitGroup
	renewer.Go(func() {
		tick := time.NewTicker(max(r.o.Lease/3, time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-jctx.Done():
				return
			case <-tick.C:
				report("")
			}
		}
	})
	result, err := r.attempt(jctx, j, report)
	close(done)
	renewer.Wait()

	if err == nil && result != nil && !json.Valid(result) {
		err = Permanent(fmt.Errorf("jobs: %s handler returned a result that is not JSON", j.Kind))
	}
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), reportTimeout)
	defer wcancel()
	switch {
	case err == nil:
		err = r.st.FinishJob(wctx, j, result)
	case ctx.Err() != nil:
		// Shutting down: the attempt was interrupted, not failed. (The
		// store refuses this if the job was cancelled meanwhile.)
		err = r.st.ReleaseJob(wctx, j)
	case IsPermanent(err) || j.Attempts >= j.MaxAttempts:
		err = r.st.FailJob(wctx, j, err.Error(), time.Time{})
	default:
		err = r.st.FailJob(wctx, j, err.Error(), r.o.Now().Add(r.o.Backoff(j.Attempts)))
		r.signal() // a zero backoff makes it due at once
	}
	// A lost lease means someone else decided the job's fate.
	if err != nil && !errors.Is(err, store.ErrLeaseLost) {
		slog.ErrorContext(ctx, "jobs: outcome not recorded", slog.Int64("job_id", j.ID), slog.String("error", err.Error()))
	}
}

// attempt runs j's handler on its own goroutine and returns its outcome,
// or, if the handler has not returned Options.Grace after ctx ended, an
// error saying so: the worker is then free although the handler goroutine
// lives on until it returns (its context is cancelled, its reports are
// refused, and its outcome is dropped).
func (r *Runner) attempt(ctx context.Context, j *store.Job, progress func(string)) ([]byte, error) {
	type outcome struct {
		result []byte
		err    error
	}
	out := make(chan outcome, 1) // buffered: an abandoned handler must not block on it
	go func() {
		res, err := r.call(ctx, j, progress)
		out <- outcome{res, err}
	}()
	select {
	case o := <-out:
		return o.result, o.err
	case <-ctx.Done():
	}
	grace := time.NewTimer(r.o.Grace)
	defer grace.Stop()
	select {
	case o := <-out:
		return o.result, o.err
	case <-grace.C:
		slog.WarnContext(ctx, "jobs: handler did not stop after cancellation; worker moves on",
			slog.Int64("job_id", j.ID), slog.String("kind", j.Kind), slog.Duration("grace", r.o.Grace))
		return nil, fmt.Errorf("jobs: %s handler did not stop within %s of %v", j.Kind, r.o.Grace, context.Cause(ctx))
	}
}

// call runs j's handler, turning a panic into a permanent error.
func (r *Runner) call(ctx context.Context, j *store.Job, progress func(string)) (result []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			slog.ErrorContext(ctx, "jobs: handler panicked", slog.Int64("job_id", j.ID), slog.String("kind", j.Kind),
				slog.String("stack", string(debug.Stack())))
			result, err = nil, Permanent(fmt.Errorf("jobs: %s handler panicked: %v", j.Kind, p))
		}
	}()
	job := *j // the handler cannot alter the claim it reports under
	job.Input = slices.Clone(j.Input)
	return r.handlers[j.Kind](ctx, &job, progress)
}
