// SPDX-License-Identifier: Apache-2.0

// Package jobs runs long tasks, such as capturing a web page before it is
// deleted, in the background: a few at a time, retried with backoff, with
// their progress visible to whoever started them.
//
// # The queue
//
// Jobs live in the store's jobs table (see [store.Job]), so they survive a
// restart and any process can enqueue, list or cancel them. A [Runner]
// claims jobs of the kinds it has a [Handler] for, oldest first, and runs
// at most Options.Workers of them at once.
//
// # Leases
//
// A claimed job is leased to its worker for Options.Lease, and the worker
// renews the lease every third of it while the handler runs. A job whose
// lease expires, because its process crashed or hung, is claimed again by
// the next worker; that attempt counts, and a job that outlives its last
// lease fails. Each claim is numbered, and the store refuses reports from a
// superseded claim, so two workers never both record an outcome.
//
// # Outcomes
//
//   - The handler returns a result: the job is done.
//   - The handler returns an error: the attempt failed, and the job is
//     queued again after Options.Backoff, unless it has used all its
//     attempts or the error is [Permanent] (a refused or malformed URL will
//     not improve by waiting). A panic is a failure that is not retried:
//     it is a bug, and the same input would only panic again.
//   - The job is cancelled ([Runner.Cancel] or [store.Store.CancelJob]):
//     the handler's context is cancelled, at once if the job runs in this
//     process, otherwise at the next lease renewal or progress report.
//   - The runner shuts down: the handler's context is cancelled and the job
//     is queued again without counting the attempt.
//
// A cancelled handler has Options.Grace (default 2 s) to return. One that
// does not (stuck in a read no deadline covers) is left behind: its worker
// records the outcome and takes the next job, and a shutdown does not wait
// for it. The handler's own deadlines must still end it; until then it
// runs beside the workers.
//
// Errors and progress messages are stored as one line of bounded length;
// they are shown to users, so handlers should write them for people.
package jobs
