// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Job states. A job moves queued → running → done, failed or cancelled; a
// failed attempt with attempts left, or a worker shutting down, moves it
// from running back to queued.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobDone      = "done"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// ErrLeaseLost is returned (wrapped) when a worker reports on a job it no
// longer holds: the job was cancelled, or its lease expired and another
// worker claimed it. The worker must stop working on it.
var ErrLeaseLost = errors.New("store: job lease lost")

// Bounds on the one-line texts a job keeps, in bytes.
const (
	maxJobError    = 1000
	maxJobProgress = 200
)

// Job is a queued task and what became of it.
type Job struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Input       json.RawMessage `json:"input"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"` // claims that counted, including a running one
	MaxAttempts int             `json:"max_attempts"`
	// Claim numbers every claim of the job. A worker passes its Job back
	// when reporting, and a report from a superseded claim is refused.
	Claim       int64           `json:"-"`
	NotBefore   time.Time       `json:"not_before,omitzero"`  // zero: at once
	LeaseUntil  time.Time       `json:"lease_until,omitzero"` // set while running
	Progress    string          `json:"progress,omitempty"`   // last stage reported
	Error       string          `json:"error,omitempty"`      // last error, one line
	Result      json.RawMessage `json:"result,omitempty"`     // set when done
	CreatedBy   string          `json:"created_by"`
	CancelledBy string          `json:"cancelled_by,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	StartedAt   time.Time       `json:"started_at,omitzero"` // the latest claim
	FinishedAt  time.Time       `json:"finished_at,omitzero"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// JobFilter selects jobs for Jobs. Empty fields select everything.
type JobFilter struct {
	State  string
	Kind   string
	Before int64 // only jobs with a smaller ID: the next page
	Limit  int   // at most this many; 0 means 100, and 1000 is the most
}

// sortableTime is RFC 3339 with a fixed nine-digit fraction. Job times
// are compared in SQL, and unlike time.RFC3339Nano, whose fraction is
// trimmed, this text sorts in time order. parseTime reads it.
const sortableTime = "2006-01-02T15:04:05.000000000Z07:00"

func formatSortable(t time.Time) string { return t.UTC().Format(sortableTime) }

// jobColumns lists, in scanJob's order, the columns every job query reads.
const jobColumns = `id, kind, input, state, attempts, max_attempts, claim, not_before, lease_until,
	progress, error, result, created_by, cancelled_by, created_at, started_at, finished_at, updated_at`

func scanJob(row interface{ Scan(...any) error }) (*Job, error) {
	var (
		j                                  Job
		input, notBefore, created, updated string
		lease, result, started, finished   sql.NullString
	)
	err := row.Scan(&j.ID, &j.Kind, &input, &j.State, &j.Attempts, &j.MaxAttempts, &j.Claim, &notBefore, &lease,
		&j.Progress, &j.Error, &result, &j.CreatedBy, &j.CancelledBy, &created, &started, &finished, &updated)
	if err != nil {
		return nil, err
	}
	j.Input = json.RawMessage(input)
	if result.Valid {
		j.Result = json.RawMessage(result.String)
	}
	j.NotBefore, j.CreatedAt, j.UpdatedAt = parseTime(notBefore), parseTime(created), parseTime(updated)
	j.LeaseUntil, j.StartedAt, j.FinishedAt = parseTime(lease.String), parseTime(started.String), parseTime(finished.String)
	return &j, nil
}

// EnqueueJob adds a job of a kind, to run as soon as a worker is free, at
// most maxAttempts times. input must be JSON; by names who asked for it.
func (s *Store) EnqueueJob(ctx context.Context, kind string, input []byte, maxAttempts int, by string) (int64, error) {
	switch {
	case kind == "":
		return 0, errors.New("store: enqueue job: kind is empty")
	case by == "":
		return 0, fmt.Errorf("store: enqueue %s job: say who enqueues it", kind)
	case maxAttempts < 1:
		return 0, fmt.Errorf("store: enqueue %s job: max attempts %d, want at least 1", kind, maxAttempts)
	case !json.Valid(input):
		return 0, fmt.Errorf("store: enqueue %s job: input is not JSON", kind)
	}
	now := formatSortable(time.Now())
	var id int64
	// not_before is the zero time, which sorts first: the job is due
	// whatever clock the claimer uses.
	err := s.db.QueryRowContext(ctx, `
		INSERT INTO jobs (kind, input, state, max_attempts, not_before, created_by, created_at, updated_at)
		VALUES ($1, $2, 'queued', $3, $4, $5, $6, $6)
		RETURNING id`,
		kind, string(input), maxAttempts, formatSortable(time.Time{}), by, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: enqueue %s job: %w", kind, err)
	}
	return id, nil
}

// ClaimJob takes the oldest job of one of kinds that is due at now: a
// queued job whose not_before has passed, or a running job whose lease has
// expired because its worker stopped. The job becomes running, leased
// until now+lease, with one more attempt. It returns nil and no error when
// no job is due.
//
// A job whose lease expired during its last attempt is not claimed but
// failed: a job that keeps killing its worker must not run forever.
// Given only, it claims only among those job ids (a command line working
// off its own jobs, never a server's).
func (s *Store) ClaimJob(ctx context.Context, kinds []string, now time.Time, lease time.Duration, only ...int64) (*Job, error) {
	if len(kinds) == 0 {
		return nil, errors.New("store: claim job: no kinds given")
	}
	if lease <= 0 {
		return nil, fmt.Errorf("store: claim job: lease %v, want a positive duration", lease)
	}
	// $1 is now, $2 the lease's end, $3… the kinds.
	args := []any{formatSortable(now), formatSortable(now.Add(lease))}
	in := make([]string, len(kinds))
	for i, k := range kinds {
		args = append(args, k)
		in[i] = fmt.Sprintf("$%d", len(args))
	}
	kindIn := "kind IN (" + strings.Join(in, ", ") + ")"
	if len(only) > 0 {
		ids := make([]string, len(only))
		for i, id := range only {
			args = append(args, id)
			ids[i] = fmt.Sprintf("$%d", len(args))
		}
		kindIn += " AND id IN (" + strings.Join(ids, ", ") + ")"
	}
	const due = `((state = 'queued' AND not_before <= $1) OR (state = 'running' AND lease_until < $1))`
	var j *Job
	err := s.Update(ctx, func(t *Tx) error {
		_, err := t.tx.ExecContext(t.ctx, `
			UPDATE jobs SET state = 'failed', lease_until = NULL, finished_at = $1, updated_at = $1,
				error = 'the worker stopped during the last attempt (its lease expired)'
			WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts AND `+kindIn,
			args...)
		if err != nil {
			return fmt.Errorf("store: claim job: %w", err)
		}
		// The condition is repeated outside the subquery so that, on an
		// engine with row locks, a claimer that lost a race for the row
		// updates nothing rather than claiming it twice.
		row := t.tx.QueryRowContext(t.ctx, `
			UPDATE jobs SET state = 'running', attempts = attempts + 1, claim = claim + 1,
				lease_until = $2, started_at = $1, updated_at = $1
			WHERE id = (SELECT id FROM jobs WHERE `+kindIn+` AND `+due+` ORDER BY id LIMIT 1)
				AND `+due+`
			RETURNING `+jobColumns,
			args...)
		j, err = scanJob(row)
		if errors.Is(err, sql.ErrNoRows) {
			j = nil
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: claim job: %w", err)
		}
		return nil
	})
	return j, err
}

// JobProgress records the stage a running job has reached, unless msg is
// empty, and extends its lease to leaseUntil. It returns ErrLeaseLost if
// j's claim no longer holds the job, which is how a worker learns that the
// job was cancelled.
func (s *Store) JobProgress(ctx context.Context, j *Job, msg string, leaseUntil time.Time) error {
	res, err := s.db.ExecContext(ctx, `
		UPDATE jobs SET progress = CASE WHEN $3 = '' THEN progress ELSE $3 END, lease_until = $4, updated_at = $5
		WHERE id = $1 AND claim = $2 AND state = 'running'`,
		j.ID, j.Claim, oneLine(msg, maxJobProgress), formatSortable(leaseUntil), formatSortable(time.Now()))
	return jobReport(res, err, "progress", j.ID)
}

// FinishJob records that a running job succeeded with result, which is
// JSON or nil, and clears its error.
func (s *Store) FinishJob(ctx context.Context, j *Job, result []byte) error {
	var res sql.NullString
	if result != nil {
		if !json.Valid(result) {
			return fmt.Errorf("store: finish job %d: result is not JSON", j.ID)
		}
		res = sql.NullString{String: string(result), Valid: true}
	}
	now := formatSortable(time.Now())
	r, err := s.db.ExecContext(ctx, `
		UPDATE jobs SET state = 'done', result = $3, error = '', lease_until = NULL, finished_at = $4, updated_at = $4
		WHERE id = $1 AND claim = $2 AND state = 'running'`,
		j.ID, j.Claim, res, now)
	return jobReport(r, err, "finish", j.ID)
}

// FailJob records that an attempt at a running job failed with errMsg,
// kept as one line of bounded length. The job is queued again to run at
// retryAt, unless retryAt is zero or the job has used all its attempts:
// then it has failed for good.
func (s *Store) FailJob(ctx context.Context, j *Job, errMsg string, retryAt time.Time) error {
	retry := "" // '' means no retry
	if !retryAt.IsZero() {
		retry = formatSortable(retryAt)
	}
	r, err := s.db.ExecContext(ctx, `
		UPDATE jobs SET
			state       = CASE WHEN $4 = '' OR attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
			not_before  = CASE WHEN $4 = '' OR attempts >= max_attempts THEN not_before ELSE $4 END,
			finished_at = CASE WHEN $4 = '' OR attempts >= max_attempts THEN $5 ELSE NULL END,
			error = $3, lease_until = NULL, updated_at = $5
		WHERE id = $1 AND claim = $2 AND state = 'running'`,
		j.ID, j.Claim, oneLine(errMsg, maxJobError), retry, formatSortable(time.Now()))
	return jobReport(r, err, "fail", j.ID)
}

// ReleaseJob returns a running job to the queue, due at once, without
// counting the attempt: its worker is shutting down, and the job did not
// fail.
func (s *Store) ReleaseJob(ctx context.Context, j *Job) error {
	r, err := s.db.ExecContext(ctx, `
		UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_until = NULL, updated_at = $3
		WHERE id = $1 AND claim = $2 AND state = 'running'`,
		j.ID, j.Claim, formatSortable(time.Now()))
	return jobReport(r, err, "release", j.ID)
}

// jobReport turns the outcome of a worker's update into an error.
func jobReport(res sql.Result, err error, what string, id int64) error {
	if err != nil {
		return fmt.Errorf("store: %s job %d: %w", what, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: %s job %d: %w", what, id, err)
	} else if n != 1 {
		return fmt.Errorf("store: %s job %d: %w", what, id, ErrLeaseLost)
	}
	return nil
}

// CancelJob cancels a queued or running job on behalf of by. A running
// job's worker learns of it at its next report. A job that does not exist
// is ErrNotFound; one already over is ErrConflict.
func (s *Store) CancelJob(ctx context.Context, id int64, by string) error {
	if by == "" {
		return fmt.Errorf("store: cancel job %d: say who cancels it", id)
	}
	return s.Update(ctx, func(t *Tx) error {
		now := formatSortable(time.Now())
		res, err := t.tx.ExecContext(t.ctx, `
			UPDATE jobs SET state = 'cancelled', cancelled_by = $2, lease_until = NULL, finished_at = $3, updated_at = $3
			WHERE id = $1 AND state IN ('queued', 'running')`,
			id, by, now)
		if err != nil {
			return fmt.Errorf("store: cancel job %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var state string
		err = t.tx.QueryRowContext(t.ctx, `SELECT state FROM jobs WHERE id = $1`, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: cancel job %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: cancel job %d: %w", id, err)
		}
		return fmt.Errorf("store: cancel job %d: it is already %s: %w", id, state, ErrConflict)
	})
}

// Job returns a job by ID.
func (s *Store) Job(ctx context.Context, id int64) (*Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: job %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: job %d: %w", id, err)
	}
	return j, nil
}

// Jobs lists the jobs f selects, newest first.
func (s *Store) Jobs(ctx context.Context, f JobFilter) ([]Job, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.State != "" {
		add("state = $%d", f.State)
	}
	if f.Kind != "" {
		add("kind = $%d", f.Kind)
	}
	if f.Before > 0 {
		add("id < $%d", f.Before)
	}
	q := `SELECT ` + jobColumns + ` FROM jobs`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: jobs: %w", err)
	}
	defer rows.Close()
	out := []Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: jobs: %w", err)
		}
		out = append(out, *j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: jobs: %w", err)
	}
	return out, nil
}

// oneLine makes s one line of at most limit bytes: control characters and
// runs of spaces become one space, invalid UTF-8 is replaced, and a cut
// text ends in "…". Errors from handlers may quote anything, including
// whole server responses.
func oneLine(s string, limit int) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		if b.Len() > limit {
			break
		}
	}
	out := b.String()
	if len(out) <= limit {
		return out
	}
	const ellipsis = "…"
	cut := limit - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut] + ellipsis
}
