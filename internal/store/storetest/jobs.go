// SPDX-License-Identifier: Apache-2.0

package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"groundtruth/internal/store"
)

// Jobs runs the contract of the job queue: enqueue, claim, report, retry,
// lease expiry, cancellation and listing. open returns a fresh, empty,
// migrated store.
func Jobs(t *testing.T, open func(t *testing.T) *store.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, ctx context.Context, s *store.Store)
	}{
		{"EnqueueChecksInput", testEnqueueChecks},
		{"ClaimOldestOfKinds", testClaimOrder},
		{"ProgressIsOneLine", testJobProgress},
		{"RetryThenFail", testJobRetry},
		{"ExpiredLeaseIsReclaimed", testJobLease},
		{"ReleaseDoesNotCountAttempt", testJobRelease},
		{"Cancel", testJobCancel},
		{"ListNewestFirst", testJobList},
		{"ConcurrentClaimsAreExclusive", testJobConcurrentClaims},
		{"ClaimOnlyGivenIDs", testClaimOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f(t, t.Context(), open(t))
		})
	}
}

func enqueue(t *testing.T, ctx context.Context, s *store.Store, kind, input string, maxAttempts int) int64 {
	t.Helper()
	id, err := s.EnqueueJob(ctx, kind, []byte(input), maxAttempts, "ana")
	if err != nil {
		t.Fatalf("EnqueueJob(%s, %s): %v", kind, input, err)
	}
	return id
}

func claim(t *testing.T, ctx context.Context, s *store.Store, kinds []string, now time.Time) *store.Job {
	t.Helper()
	j, err := s.ClaimJob(ctx, kinds, now, time.Minute)
	if err != nil {
		t.Fatalf("ClaimJob(%v) at %v: %v", kinds, now, err)
	}
	return j
}

func jobByID(t *testing.T, ctx context.Context, s *store.Store, id int64) *store.Job {
	t.Helper()
	j, err := s.Job(ctx, id)
	if err != nil {
		t.Fatalf("Job(%d): %v", id, err)
	}
	return j
}

var capture = []string{"capture"}

func testEnqueueChecks(t *testing.T, ctx context.Context, s *store.Store) {
	bad := []struct {
		name, kind, input, by string
		maxAttempts           int
	}{
		{"no kind", "", `{}`, "ana", 3},
		{"no one", "capture", `{}`, "", 3},
		{"no attempts", "capture", `{}`, "ana", 0},
		{"not JSON", "capture", `{"url":`, "ana", 3},
		{"empty input", "capture", ``, "ana", 3},
	}
	for _, tt := range bad {
		if id, err := s.EnqueueJob(ctx, tt.kind, []byte(tt.input), tt.maxAttempts, tt.by); err == nil {
			t.Errorf("EnqueueJob with %s = %d, nil; want an error", tt.name, id)
		}
	}
	id := enqueue(t, ctx, s, "capture", `{"url":"https://example.org/post/1"}`, 3)
	j := jobByID(t, ctx, s, id)
	if j.ID != id || j.Kind != "capture" || string(j.Input) != `{"url":"https://example.org/post/1"}` ||
		j.State != store.JobQueued || j.Attempts != 0 || j.MaxAttempts != 3 || j.CreatedBy != "ana" ||
		!j.NotBefore.IsZero() || !j.LeaseUntil.IsZero() || !j.StartedAt.IsZero() || !j.FinishedAt.IsZero() ||
		j.CreatedAt.IsZero() || j.Result != nil || j.Error != "" {
		t.Errorf("Job after enqueue = %+v", j)
	}
	if _, err := s.Job(ctx, id+1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Job(missing) = %v, want ErrNotFound", err)
	}
}

func testClaimOrder(t *testing.T, ctx context.Context, s *store.Store) {
	a := enqueue(t, ctx, s, "capture", `"a"`, 3)
	b := enqueue(t, ctx, s, "analyse", `"b"`, 3)
	c := enqueue(t, ctx, s, "capture", `"c"`, 3)
	if _, err := s.ClaimJob(ctx, nil, t0, time.Minute); err == nil {
		t.Error("ClaimJob of no kinds succeeded")
	}
	j := claim(t, ctx, s, capture, t0)
	if j == nil || j.ID != a {
		t.Fatalf("first claim = %+v, want job %d", j, a)
	}
	if j.State != store.JobRunning || j.Attempts != 1 || !j.StartedAt.Equal(t0) || !j.LeaseUntil.Equal(t0.Add(time.Minute)) {
		t.Errorf("claimed job = %+v, want running, attempt 1, started %v, leased a minute", j, t0)
	}
	if got := jobByID(t, ctx, s, a); got.State != store.JobRunning || got.Claim != j.Claim || !got.LeaseUntil.Equal(j.LeaseUntil) {
		t.Errorf("Job after claim = %+v, want what the claim returned", got)
	}
	if j := claim(t, ctx, s, capture, t0); j == nil || j.ID != c {
		t.Fatalf("second claim = %+v, want job %d", j, c)
	}
	if j := claim(t, ctx, s, capture, t0); j != nil {
		t.Errorf("third claim = %+v, want none", j)
	}
	if j := claim(t, ctx, s, []string{"other", "analyse"}, t0); j == nil || j.ID != b {
		t.Errorf("claim of analyse = %+v, want job %d", j, b)
	}
}

func testJobProgress(t *testing.T, ctx context.Context, s *store.Store) {
	enqueue(t, ctx, s, "capture", `{}`, 3)
	j := claim(t, ctx, s, capture, t0)
	if err := s.JobProgress(ctx, j, "fetching\r\npage\t1", t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got := jobByID(t, ctx, s, j.ID)
	if got.Progress != "fetching page 1" || !got.LeaseUntil.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("after JobProgress: progress %q, lease until %v", got.Progress, got.LeaseUntil)
	}
	// An empty message renews the lease and keeps the stage.
	if err := s.JobProgress(ctx, j, "", t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got = jobByID(t, ctx, s, j.ID)
	if got.Progress != "fetching page 1" || !got.LeaseUntil.Equal(t0.Add(6*time.Minute)) {
		t.Errorf("after renewal: progress %q, lease until %v", got.Progress, got.LeaseUntil)
	}
	long := strings.Repeat("é", 5000)
	if err := s.JobProgress(ctx, j, long, t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got = jobByID(t, ctx, s, j.ID)
	if len(got.Progress) > 1000 || !strings.HasSuffix(got.Progress, "…") || !strings.HasPrefix(got.Progress, "éé") {
		t.Errorf("long progress stored as %d bytes: %.40q…", len(got.Progress), got.Progress)
	}
}

func testJobRetry(t *testing.T, ctx context.Context, s *store.Store) {
	id := enqueue(t, ctx, s, "capture", `{}`, 2)
	j := claim(t, ctx, s, capture, t0)
	msg := "fetch https://example.org: 503\n<html>\n" + strings.Repeat("x", 10000)
	if err := s.FailJob(ctx, j, msg, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got := jobByID(t, ctx, s, id)
	if got.State != store.JobQueued || !got.NotBefore.Equal(t0.Add(time.Minute)) || !got.FinishedAt.IsZero() || !got.LeaseUntil.IsZero() {
		t.Errorf("after a failed attempt: %+v, want queued until %v", got, t0.Add(time.Minute))
	}
	if strings.ContainsAny(got.Error, "\r\n") || len(got.Error) > 1000 || !strings.HasPrefix(got.Error, "fetch https://example.org: 503 <html> xxx") {
		t.Errorf("stored error is %d bytes: %.60q", len(got.Error), got.Error)
	}
	if j := claim(t, ctx, s, capture, t0.Add(59*time.Second)); j != nil {
		t.Errorf("claim before not_before = job %d", j.ID)
	}
	j = claim(t, ctx, s, capture, t0.Add(time.Minute))
	if j == nil || j.ID != id || j.Attempts != 2 {
		t.Fatalf("claim at not_before = %+v, want job %d, attempt 2", j, id)
	}
	// The last attempt fails for good even if a retry is asked for.
	if err := s.FailJob(ctx, j, "again", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got = jobByID(t, ctx, s, id)
	if got.State != store.JobFailed || got.Error != "again" || got.FinishedAt.IsZero() {
		t.Errorf("after the last attempt: %+v, want failed", got)
	}
	if j := claim(t, ctx, s, capture, t0.Add(time.Hour)); j != nil {
		t.Errorf("claimed a failed job: %d", j.ID)
	}
	if err := s.FailJob(ctx, j, "late", time.Time{}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("FailJob of a failed job = %v, want ErrLeaseLost", err)
	}

	// A zero retry time fails the job at once, attempts left or not.
	id = enqueue(t, ctx, s, "capture", `{}`, 5)
	j = claim(t, ctx, s, capture, t0)
	if err := s.FailJob(ctx, j, "refused: private address", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := jobByID(t, ctx, s, id); got.State != store.JobFailed || got.Attempts != 1 {
		t.Errorf("after a permanent failure: %+v, want failed after 1 attempt", got)
	}
}

func testJobLease(t *testing.T, ctx context.Context, s *store.Store) {
	id := enqueue(t, ctx, s, "capture", `{}`, 2)
	crashed := claim(t, ctx, s, capture, t0) // leased until t0+1m, then abandoned
	if j := claim(t, ctx, s, capture, t0.Add(59*time.Second)); j != nil {
		t.Errorf("claimed job %d while its lease holds", j.ID)
	}
	j := claim(t, ctx, s, capture, t0.Add(2*time.Minute))
	if j == nil || j.ID != id || j.Attempts != 2 || j.Claim == crashed.Claim {
		t.Fatalf("claim after the lease expired = %+v, want job %d, attempt 2, a new claim", j, id)
	}
	// The first worker wakes up: everything it reports is refused.
	if err := s.JobProgress(ctx, crashed, "still here", t0.Add(3*time.Minute)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("JobProgress of a superseded claim = %v, want ErrLeaseLost", err)
	}
	if err := s.FinishJob(ctx, crashed, []byte(`"stale"`)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("FinishJob of a superseded claim = %v, want ErrLeaseLost", err)
	}
	if err := s.FinishJob(ctx, j, []byte(`not json`)); err == nil {
		t.Error("FinishJob with a result that is not JSON succeeded")
	}
	if err := s.FinishJob(ctx, j, []byte(`{"warc":"ab12"}`)); err != nil {
		t.Fatal(err)
	}
	got := jobByID(t, ctx, s, id)
	if got.State != store.JobDone || string(got.Result) != `{"warc":"ab12"}` || got.FinishedAt.IsZero() || !got.LeaseUntil.IsZero() {
		t.Errorf("after FinishJob: %+v", got)
	}

	// A job whose worker dies on its last attempt fails instead of
	// looping forever.
	id = enqueue(t, ctx, s, "capture", `{}`, 1)
	claim(t, ctx, s, capture, t0)
	if j := claim(t, ctx, s, capture, t0.Add(2*time.Minute)); j != nil {
		t.Errorf("reclaimed job %d after its last attempt", j.ID)
	}
	if got := jobByID(t, ctx, s, id); got.State != store.JobFailed || !strings.Contains(got.Error, "lease") {
		t.Errorf("job whose last lease expired = %s %q, want failed, naming the lease", got.State, got.Error)
	}
}

func testJobRelease(t *testing.T, ctx context.Context, s *store.Store) {
	id := enqueue(t, ctx, s, "capture", `{}`, 1)
	j := claim(t, ctx, s, capture, t0)
	if err := s.ReleaseJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if got := jobByID(t, ctx, s, id); got.State != store.JobQueued || got.Attempts != 0 || !got.LeaseUntil.IsZero() {
		t.Errorf("after ReleaseJob: %+v, want queued with no attempt counted", got)
	}
	if err := s.ReleaseJob(ctx, j); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("second ReleaseJob = %v, want ErrLeaseLost", err)
	}
	j2 := claim(t, ctx, s, capture, t0)
	if j2 == nil || j2.ID != id || j2.Attempts != 1 {
		t.Fatalf("claim after release = %+v, want job %d, attempt 1", j2, id)
	}
	if err := s.FinishJob(ctx, j, nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("FinishJob by the released claim = %v, want ErrLeaseLost", err)
	}
	if err := s.FinishJob(ctx, j2, nil); err != nil {
		t.Fatal(err)
	}
	if got := jobByID(t, ctx, s, id); got.State != store.JobDone || got.Result != nil {
		t.Errorf("after FinishJob with no result: %+v", got)
	}
}

func testJobCancel(t *testing.T, ctx context.Context, s *store.Store) {
	queued := enqueue(t, ctx, s, "capture", `1`, 3)
	running := enqueue(t, ctx, s, "capture", `2`, 3)
	if err := s.CancelJob(ctx, queued, "ben"); err != nil {
		t.Fatal(err)
	}
	j := claim(t, ctx, s, capture, t0)
	if j == nil || j.ID != running {
		t.Fatalf("claim = %+v, want job %d: a cancelled job is never claimed", j, running)
	}
	if err := s.CancelJob(ctx, running, ""); err == nil {
		t.Error("CancelJob by no one succeeded")
	}
	if err := s.CancelJob(ctx, running, "ben"); err != nil {
		t.Fatal(err)
	}
	if err := s.JobProgress(ctx, j, "working", t0.Add(time.Minute)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("JobProgress of a cancelled job = %v, want ErrLeaseLost", err)
	}
	if err := s.FinishJob(ctx, j, nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("FinishJob of a cancelled job = %v, want ErrLeaseLost", err)
	}
	for _, id := range []int64{queued, running} {
		got := jobByID(t, ctx, s, id)
		if got.State != store.JobCancelled || got.CancelledBy != "ben" || got.FinishedAt.IsZero() {
			t.Errorf("job %d after CancelJob: %+v", id, got)
		}
	}
	if err := s.CancelJob(ctx, running, "ben"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CancelJob of a cancelled job = %v, want ErrConflict", err)
	}
	if err := s.CancelJob(ctx, running+100, "ben"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CancelJob of a missing job = %v, want ErrNotFound", err)
	}
}

func testJobList(t *testing.T, ctx context.Context, s *store.Store) {
	var ids []int64
	for i := range 5 {
		kind := "capture"
		if i%2 == 1 {
			kind = "analyse"
		}
		ids = append(ids, enqueue(t, ctx, s, kind, fmt.Sprint(i), 3))
	}
	claim(t, ctx, s, capture, t0) // ids[0] is running
	idsOf := func(js []store.Job) []int64 {
		out := []int64{}
		for _, j := range js {
			out = append(out, j.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    store.JobFilter
		want []int64
	}{
		{"all", store.JobFilter{}, []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"kind", store.JobFilter{Kind: "analyse"}, []int64{ids[3], ids[1]}},
		{"state", store.JobFilter{State: store.JobRunning}, []int64{ids[0]}},
		{"state and kind", store.JobFilter{State: store.JobQueued, Kind: "capture"}, []int64{ids[4], ids[2]}},
		{"limit", store.JobFilter{Limit: 2}, []int64{ids[4], ids[3]}},
		{"next page", store.JobFilter{Before: ids[3], Limit: 2}, []int64{ids[2], ids[1]}},
		{"none", store.JobFilter{State: store.JobDone}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js, err := s.Jobs(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := idsOf(js); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Jobs(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

func testJobConcurrentClaims(t *testing.T, ctx context.Context, s *store.Store) {
	const n, workers = 40, 4
	for i := range n {
		enqueue(t, ctx, s, "capture", fmt.Sprint(i), 1)
	}
	var (
		mu      sync.Mutex
		claimed = map[int64]int{}
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			// A claim that loses a race may find nothing: stop only after
			// several empty claims in a row.
			for empty := 0; empty < 3; {
				j, err := s.ClaimJob(ctx, capture, t0, time.Minute)
				if err != nil {
					t.Errorf("ClaimJob: %v", err)
					return
				}
				if j == nil {
					empty++
					continue
				}
				empty = 0
				mu.Lock()
				claimed[j.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for j := claim(t, ctx, s, capture, t0); j != nil; j = claim(t, ctx, s, capture, t0) {
		claimed[j.ID]++
	}
	if len(claimed) != n {
		t.Errorf("%d jobs claimed, want %d", len(claimed), n)
	}
	for id, k := range claimed {
		if k != 1 {
			t.Errorf("job %d claimed %d times", id, k)
		}
	}
}

// testClaimOnly: a claimer limited to some job ids (a command line working
// off its own captures) never takes another process's job, even an older
// one.
func testClaimOnly(t *testing.T, ctx context.Context, s *store.Store) {
	other := enqueue(t, ctx, s, "capture", `{"url":"https://a.example/"}`, 1)
	mine := enqueue(t, ctx, s, "capture", `{"url":"https://b.example/"}`, 1)
	now := time.Now()
	j, err := s.ClaimJob(ctx, []string{"capture"}, now, time.Minute, mine)
	if err != nil || j == nil || j.ID != mine {
		t.Fatalf("ClaimJob(only %d) = %+v, %v; want job %d", mine, j, err, mine)
	}
	if j, err := s.ClaimJob(ctx, []string{"capture"}, now, time.Minute, mine); err != nil || j != nil {
		t.Fatalf("second ClaimJob(only %d) = %+v, %v; want nothing, job %d is not ours", mine, j, err, other)
	}
	if j := claim(t, ctx, s, []string{"capture"}, now); j == nil || j.ID != other {
		t.Fatalf("an unrestricted claim = %+v, want job %d", j, other)
	}
}
