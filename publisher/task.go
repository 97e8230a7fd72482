package publisher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/publisher/jobs"
	"github.com/haulout/haulout/walrusapi"
)

// errRegistrationGone: the Blob object a job registered expired or was
// deleted before the blob was certified.
var errRegistrationGone = errors.New("the registered Blob object is no longer live")

// errTaskEnded is the cause that ends a task's context once it returns.
var errTaskEnded = errors.New("task ended")

// Reasons of the 503s a waiting client gets when its job stops here
// without an answer but is not failed: it goes on elsewhere.
const (
	reasonTakenOver    = "JOB_TAKEN_OVER"
	reasonShuttingDown = "PUBLISHER_SHUTTING_DOWN"
)

// task is one job at work in this publisher: the goroutine that moves it
// through its states, holding (and renewing) its lease.
type task struct {
	p        *Publisher
	log      *slog.Logger
	freeSlot func()
	ctx      context.Context
	cancel   context.CancelCauseFunc

	mu    sync.Mutex
	job   jobs.Job // as last written to the store
	lease jobs.Lease

	answered   chan struct{}
	answerOnce sync.Once
	answer     json.RawMessage
	answerErr  *apierr.Error

	// patches are a quilt job's files, known once it is encoded.
	patches []codec.QuiltPatch
}

// start runs job j, leased to this publisher, in a goroutine of its own;
// free gives back its job slot when it ends.
func (p *Publisher) start(j jobs.Job, free func()) *task {
	ctx, cancel := context.WithCancelCause(p.ctx)
	t := &task{
		p: p, log: p.log.With("job", j.ID), freeSlot: free, ctx: ctx, cancel: cancel,
		job: j, lease: j.Lease, answered: make(chan struct{}),
	}
	p.startMu.Lock()
	if p.closed {
		p.startMu.Unlock()
		cancel(errTaskEnded)
		free()
		t.release()
		t.setError(apierr.New(apierr.Unavailable, apierr.DomainDaemon, reasonShuttingDown,
			"the publisher is shutting down; the upload will be resumed: see /v1/jobs/%s", j.ID))
		return t
	}
	p.wg.Add(1)
	p.startMu.Unlock()
	p.metrics.jobsActive.Inc()
	go t.run()
	return t
}

func (t *task) run() {
	defer t.p.wg.Done()
	defer t.freeSlot()
	defer t.p.metrics.jobsActive.Dec()
	var renewal sync.WaitGroup
	renewal.Go(t.renewLoop)
	err := t.execute(t.ctx)
	t.cancel(errTaskEnded)
	renewal.Wait()
	t.finish(err)
	t.setError(apierr.From(errors.New("the job ended without an answer")))
}

func (t *task) snapshot() jobs.Job {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.job
}

func (t *task) currentLease() jobs.Lease {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lease
}

// renewLoop renews the lease every third of its duration; once the lease
// is lost (another publisher took the job) the task's context ends.
func (t *task) renewLoop() {
	p := t.p
	every, retry := p.cfg.LeaseDuration/3, p.cfg.LeaseDuration/10
	timer := time.NewTimer(every)
	defer timer.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-timer.C:
		}
		l, err := p.cfg.Jobs.Renew(t.ctx, t.currentLease(), p.cfg.LeaseDuration)
		switch {
		case err == nil:
			t.mu.Lock()
			t.lease = l
			t.mu.Unlock()
			timer.Reset(every)
		case errors.Is(err, jobs.ErrLeaseLost), errors.Is(err, jobs.ErrFinished):
			t.cancel(err)
			return
		case t.ctx.Err() == nil:
			t.log.Warn("renewing the job's lease failed; trying again", "err", err)
			timer.Reset(retry)
		}
	}
}

func (t *task) setAnswer(body json.RawMessage) {
	t.answerOnce.Do(func() {
		t.answer = body
		close(t.answered)
	})
}

func (t *task) setError(e *apierr.Error) {
	t.answerOnce.Do(func() {
		t.answerErr = e
		close(t.answered)
	})
}

// update writes a change of the job under its lease and keeps the task's
// view of the job in step.
func (t *task) update(ctx context.Context, c jobs.Change) error {
	if err := t.p.cfg.Jobs.Update(ctx, t.currentLease(), c); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	j := &t.job
	if c.State != "" {
		j.State = c.State
	}
	if c.BlobID != "" {
		j.BlobID = c.BlobID
	}
	if c.Registration != nil {
		j.Registration = c.Registration
	}
	if c.Certificate != nil {
		j.Certificate = c.Certificate
	}
	if c.Result != nil {
		j.Result = c.Result
	}
	if c.Error != "" {
		j.LastError = c.Error
	}
	for _, n := range c.Nodes {
		found := false
		for i := range j.Nodes {
			if j.Nodes[i].Node == n.Node {
				j.Nodes[i], found = n, true
				break
			}
		}
		if !found {
			j.Nodes = append(j.Nodes, n)
		}
	}
	return nil
}

// recordNode records one node's progress.
func (t *task) recordNode(ctx context.Context, info chain.NodeInfo, ev nodeEvent) error {
	np := jobs.NodeProgress{Node: nodeKey(info), State: ev.state, Attempts: ev.attempts}
	if ev.err != nil {
		np.LastError = ev.err.Error()
	}
	if ev.state == jobs.NodeGivenUp {
		t.log.Warn("giving up on a storage node", "node", info.ID, "url", info.RESTURL, "attempts", ev.attempts, "err", ev.err)
	}
	return t.update(ctx, jobs.Change{Nodes: []jobs.NodeProgress{np}})
}

// stateOrder ranks the states of a job.
var stateOrder = map[jobs.State]int{
	jobs.StateReceived: 0, jobs.StateEncoded: 1, jobs.StateRegistered: 2, jobs.StateDistributing: 3,
	jobs.StateCertified: 4, jobs.StateDone: 5, jobs.StateFailed: 6,
}

// execute moves the job from wherever it stands to done, recording every
// step before the next.
func (t *task) execute(ctx context.Context) error {
	p := t.p
	j := t.snapshot()
	committee, err := p.cfg.Ledger.CurrentCommittee(ctx)
	if err != nil {
		return fmt.Errorf("ledger: committee: %w", err)
	}
	code, err := codec.NewConfig(int(committee.NShards))
	if err != nil {
		return fmt.Errorf("committee of %d shards: %w", committee.NShards, err)
	}
	prior := nodeMap(j.Nodes)
	if j.State == jobs.StateCertified {
		t.setAnswer(j.Result)
		if !unfinished(committee, prior) {
			return t.done(ctx)
		}
	}
	enc, release, err := t.encode(ctx, code, j)
	if err != nil {
		return err
	}
	defer release()
	id := enc.Metadata.ID
	if j.BlobID != "" && j.BlobID != id.String() {
		return fmt.Errorf("%w: it encodes to blob %s, not %s as recorded", errSpool, id, j.BlobID)
	}
	if j.State == jobs.StateReceived {
		if err := t.update(ctx, jobs.Change{State: jobs.StateEncoded, BlobID: id.String()}); err != nil {
			return err
		}
	}
	if p.blocked[id] {
		return fmt.Errorf("%w: %s", errBlocked, id)
	}
	rec, answered, err := t.register(ctx, enc)
	if err != nil || answered {
		return err
	}
	if err := t.setAttributes(ctx, rec); err != nil {
		return err
	}
	if rec.Certified() && stateOrder[t.snapshot().State] < stateOrder[jobs.StateCertified] {
		// An earlier run certified the blob but died before recording it.
		epoch := rec.RegisteredEpoch
		if rec.CertifiedEpoch != nil {
			epoch = *rec.CertifiedEpoch
		}
		if err := t.certified(ctx, rec, chain.Certificate{}, 0, epoch); err != nil {
			return err
		}
	}
	for changes := 0; ; changes++ {
		d, err := t.newDelivery(committee, enc, rec, prior)
		if err != nil {
			return err
		}
		if err := t.startDistribution(ctx, d, prior); err != nil {
			return err
		}
		err = d.run(ctx, rec, func(rec chain.BlobRecord, cert chain.Certificate, weight int) error {
			return t.certified(ctx, rec, cert, weight, committee.Epoch)
		})
		if errors.Is(err, errEpochChanged) && changes < 3 {
			t.log.Info("epoch changed during the upload; collecting confirmations again", "err", err)
			if committee, err = p.cfg.Ledger.CurrentCommittee(ctx); err != nil {
				return fmt.Errorf("ledger: committee: %w", err)
			}
			prior = nodeMap(t.snapshot().Nodes)
			continue
		}
		if err != nil {
			return err
		}
		return t.done(ctx)
	}
}

func nodeMap(nodes []jobs.NodeProgress) map[string]jobs.NodeProgress {
	m := make(map[string]jobs.NodeProgress, len(nodes))
	for _, n := range nodes {
		m[n.Node] = n
	}
	return m
}

// unfinished reports whether some node of the committee still waits for
// its slivers.
func unfinished(c chain.Committee, prior map[string]jobs.NodeProgress) bool {
	for _, n := range c.Nodes {
		if pr, ok := prior[nodeKey(n)]; !ok || pr.State == jobs.NodePending {
			return true
		}
	}
	return false
}

// encode encodes the job's spool file: a large blob with the streaming
// encoder into a sliver file, any other mapped and in memory, within the
// memory budget. For a quilt it also reads the quilt's index. release gives
// the memory (or the sliver file) back once the slivers are no longer
// needed; an encoding in memory gives back what it no longer holds before
// that (see encoded).
func (t *task) encode(ctx context.Context, code codec.Config, j jobs.Job) (*encoded, func(), error) {
	p := t.p
	if uint64(j.Size) > code.MaxBlobSize() {
		return nil, nil, fmt.Errorf("%w: %d bytes, at most %d on %d shards", codec.ErrBlobTooLarge, j.Size, code.MaxBlobSize(), code.NShards())
	}
	if p.streams(j.Size, isQuilt(j.Options)) {
		e, err := t.encodeToFile(ctx, code, j.ID, j.SpoolPath, j.Size)
		if err != nil {
			return nil, nil, err
		}
		return e, e.close, nil
	}
	held, err := p.mem.acquire(ctx, encodeMemory(code, j.Size))
	if err != nil {
		return nil, nil, err
	}
	release := func() { p.mem.release(held) }
	m, err := mapBlob(j.SpoolPath, j.Size)
	if err != nil {
		release()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w: %s is missing", errSpool, j.SpoolPath)
		}
		if errors.Is(err, errSpool) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w: %v", errSpool, err)
	}
	defer m.Close()
	start := time.Now()
	enc, err := code.Encode(m.Bytes())
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("encode: %w", err)
	}
	if isQuilt(j.Options) {
		q, err := code.ParseQuilt(m.Bytes())
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("quilt job: %w", err)
		}
		t.patches = make([]codec.QuiltPatch, len(q.Index.Patches))
		for i, pt := range q.Index.Patches {
			t.patches[i] = codec.QuiltPatch{Identifier: strings.Clone(pt.Identifier), Start: pt.Start, End: pt.End}
		}
	}
	p.metrics.stepDuration.WithLabelValues("encode").Observe(time.Since(start).Seconds())
	e := &encoded{Metadata: enc.Metadata, p: p, mem: enc, held: held}
	for _, sls := range [][]codec.Sliver{enc.Primary, enc.Secondary} {
		for i := range sls {
			e.full += int64(len(sls[i].Data))
		}
	}
	// The estimate's leaf hashes (and a read blob) are garbage now.
	e.mu.Lock()
	e.settle()
	e.mu.Unlock()
	return e, e.close, nil
}

// register returns the job's Blob object: the one it recorded, or a new
// one. Unless the upload forces a new object, a blob already certified long
// enough is answered with alreadyCertified instead (answered is then true
// and the job is done).
func (t *task) register(ctx context.Context, enc *encoded) (rec chain.BlobRecord, answered bool, err error) {
	p := t.p
	j := t.snapshot()
	id := enc.Metadata.ID
	sys, err := p.cfg.Ledger.SystemInfo(ctx)
	if err != nil {
		return rec, false, fmt.Errorf("ledger: system info: %w", err)
	}
	if j.Registration != nil {
		obj, err := chain.ParseObjectID(j.Registration.ObjectID)
		if err != nil {
			return rec, false, fmt.Errorf("recorded registration: %w", err)
		}
		if rec, err = p.cfg.Ledger.Blob(ctx, obj); err != nil {
			return rec, false, fmt.Errorf("ledger: blob object %s: %w", obj, err)
		}
		if rec.Deleted || (!rec.Certified() && rec.Expired(sys.Epoch)) {
			return rec, false, fmt.Errorf("%w: %s (end epoch %d, now %d, deleted %v)", errRegistrationGone, obj, rec.EndEpoch, sys.Epoch, rec.Deleted)
		}
		return rec, false, nil
	}
	epochs := j.Options.Epochs
	if epochs == 0 {
		epochs = p.cfg.DefaultEpochs
	}
	if epochs > sys.MaxEpochsAhead {
		return rec, false, errEpochs(epochs, sys.MaxEpochsAhead)
	}
	end := sys.Epoch + chain.Epoch(epochs)
	deletable := jobDeletable(j.Options)
	st, err := p.cfg.Ledger.BlobStatus(ctx, id)
	if err != nil {
		return rec, false, fmt.Errorf("ledger: blob status: %w", err)
	}
	if st.Kind == chain.StatusInvalid {
		// Walrus's publisher turns its markedInvalid result into this 500.
		return rec, false, fmt.Errorf("%w: blob %s (event %s:%d)", errMarkedInvalid, id, st.Event.TxDigest, st.Event.EventSeq)
	}
	if !j.Options.Force {
		// As Walrus's publisher: a blob stored long enough already is
		// answered with what stores it.
		by, err := chain.FindCertified(ctx, p.cfg.Ledger.BlobObjects, id, st, end, deletable, sys.Epoch)
		if err != nil {
			return rec, false, fmt.Errorf("ledger: %w", err)
		}
		if by != nil {
			return rec, true, t.answerAlreadyCertified(ctx, walrusapi.AlreadyCertifiedOf(id, by))
		}
	}
	encoded, err := chain.EncodedBlobLength(uint64(j.Size), sys.NShards)
	if err != nil {
		return rec, false, err
	}
	start := time.Now()
	rec, err = p.cfg.Ledger.Register(ctx, chain.RegisterRequest{
		BlobID:        id,
		RootHash:      chain.Hash(enc.Metadata.RootHash()),
		UnencodedSize: uint64(j.Size),
		EncodingType:  chain.EncodingRS2,
		EncodedSize:   encoded,
		EndEpoch:      end,
		Deletable:     deletable,
	})
	if err != nil {
		return rec, false, fmt.Errorf("ledger: register: %w", err)
	}
	p.metrics.stepDuration.WithLabelValues("register").Observe(time.Since(start).Seconds())
	err = t.update(ctx, jobs.Change{State: jobs.StateRegistered, Registration: &jobs.Registration{
		ObjectID:        rec.ObjectID.String(),
		Event:           jobEvent(rec.RegisterEvent),
		RegisteredEpoch: uint32(rec.RegisteredEpoch),
		EndEpoch:        uint32(rec.EndEpoch),
		EncodedSize:     rec.EncodedSize,
		Deletable:       rec.Deletable,
		Cost:            storageCost(rec.EncodedSize, epochs, p.cfg.StoragePrice, p.cfg.WritePrice),
	}})
	return rec, false, err
}

func jobEvent(e chain.EventID) jobs.Event {
	return jobs.Event{TxDigest: e.TxDigest.String(), EventSeq: e.EventSeq}
}

// answerAlreadyCertified finishes a job whose blob is stored already.
func (t *task) answerAlreadyCertified(ctx context.Context, ac *walrusapi.AlreadyCertified) error {
	body, err := t.resultBody(walrusapi.BlobStoreResult{AlreadyCertified: ac}, ac.BlobID)
	if err != nil {
		return err
	}
	if err := t.update(ctx, jobs.Change{State: jobs.StateDone, Result: body}); err != nil {
		return err
	}
	t.setAnswer(body)
	t.p.metrics.uploads.WithLabelValues("already_certified").Inc()
	t.cleanUp(jobs.StateDone)
	return nil
}

// setAttributes sets the upload's attributes on its Blob object (a quilt's
// _walrusBlobType), unless they are set already.
func (t *task) setAttributes(ctx context.Context, rec chain.BlobRecord) error {
	for k, v := range t.snapshot().Options.Attributes {
		if cur, ok := rec.Attributes[k]; ok && cur == v {
			continue
		}
		if err := t.p.cfg.Ledger.SetAttribute(ctx, rec.ObjectID, k, v); err != nil {
			return fmt.Errorf("ledger: set attribute %s: %w", k, err)
		}
	}
	return nil
}

// startDistribution records the job as distributing, with every node it
// has not heard of yet as pending.
func (t *task) startDistribution(ctx context.Context, d *delivery, prior map[string]jobs.NodeProgress) error {
	var nodes []jobs.NodeProgress
	for _, s := range d.senders {
		if _, ok := prior[nodeKey(s.info)]; !ok {
			nodes = append(nodes, jobs.NodeProgress{Node: nodeKey(s.info), State: jobs.NodePending})
		}
	}
	c := jobs.Change{Nodes: nodes}
	if stateOrder[t.snapshot().State] < stateOrder[jobs.StateDistributing] {
		c.State = jobs.StateDistributing
	}
	if c.State == "" && len(nodes) == 0 {
		return nil
	}
	return t.update(ctx, c)
}

// certified records the certification and the client's answer, and gives
// the answer to the waiting client; slow nodes still get their slivers
// after this.
func (t *task) certified(ctx context.Context, rec chain.BlobRecord, cert chain.Certificate, weight int, epoch chain.Epoch) error {
	j := t.snapshot()
	cost := uint64(0)
	if j.Registration != nil {
		cost = j.Registration.Cost
	}
	epochs := j.Options.Epochs
	if epochs == 0 {
		epochs = t.p.cfg.DefaultEpochs
	}
	body, err := t.resultBody(newlyCreatedResult(rec, epochs, cost, j.Options.Share), rec.BlobID)
	if err != nil {
		return err
	}
	err = t.update(ctx, jobs.Change{State: jobs.StateCertified, Result: body, Certificate: &jobs.Certificate{
		Epoch:   uint32(epoch),
		Event:   jobEvent(rec.CertifyEvent),
		Signers: cert.Signers,
		Weight:  weight,
	}})
	if err != nil {
		return err
	}
	t.setAnswer(body)
	t.p.metrics.uploads.WithLabelValues("newly_created").Inc()
	t.log.Info("blob certified", "blob", rec.BlobID, "object", rec.ObjectID, "size", rec.UnencodedSize,
		"end_epoch", rec.EndEpoch, "signers", len(cert.Signers))
	return nil
}

// resultBody is the JSON answer: the BlobStoreResult, or for a quilt the
// QuiltStoreResult with its patches.
func (t *task) resultBody(res walrusapi.BlobStoreResult, id codec.BlobID) (json.RawMessage, error) {
	if !isQuilt(t.snapshot().Options) {
		return marshalAnswer(res)
	}
	return marshalAnswer(walrusapi.QuiltStoreResultOf(res, id, t.patches))
}

// done finishes the job: every node has its slivers or was given up on.
func (t *task) done(ctx context.Context) error {
	if err := t.update(ctx, jobs.Change{State: jobs.StateDone}); err != nil {
		return err
	}
	t.cleanUp(jobs.StateDone)
	return nil
}

// cleanUp removes a finished job's spool file.
func (t *task) cleanUp(state jobs.State) {
	t.p.metrics.jobsFinished.WithLabelValues(string(state)).Inc()
	if err := t.p.spool.remove(t.snapshot().SpoolPath); err != nil {
		t.log.Warn("removing the spool file", "err", err)
	}
}

// release gives the lease back without finishing the job, so that the next
// start or another publisher resumes it at once.
func (t *task) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := t.p.cfg.Jobs.Release(ctx, t.currentLease()); err != nil && !errors.Is(err, jobs.ErrLeaseLost) {
		t.log.Warn("releasing the job's lease", "err", err)
	}
}

// finish deals with a job that execute could not bring to done: one lost
// to another publisher or stopped by a shutdown goes on elsewhere; one
// certified already is left for the runner to resume; any other fails, with
// the reason recorded and given to a waiting client.
func (t *task) finish(err error) {
	if err == nil {
		return
	}
	p := t.p
	cause := context.Cause(t.ctx)
	switch {
	case errors.Is(err, jobs.ErrLeaseLost), errors.Is(err, jobs.ErrFinished), errors.Is(cause, jobs.ErrLeaseLost):
		t.log.Warn("the job was taken over by another publisher", "err", err)
		t.setError(apierr.New(apierr.Unavailable, apierr.DomainDaemon, reasonTakenOver,
			"another publisher took the upload over; follow it at /v1/jobs/%s", t.snapshot().ID))
	case p.ctx.Err() != nil:
		t.release()
		t.setError(apierr.New(apierr.Unavailable, apierr.DomainDaemon, reasonShuttingDown,
			"the publisher is shutting down; the upload will be resumed: see /v1/jobs/%s", t.snapshot().ID))
	case t.snapshot().State == jobs.StateCertified:
		t.log.Warn("a certified job stopped before all nodes were done; it will be resumed", "err", err)
		t.release()
	default:
		reason := err.Error()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if ferr := p.cfg.Jobs.Fail(ctx, t.currentLease(), reason); ferr != nil {
			t.log.Error("recording the job's failure", "err", ferr, "reason", reason)
		} else {
			t.cleanUp(jobs.StateFailed)
		}
		p.metrics.uploads.WithLabelValues("failed").Inc()
		t.log.Warn("upload failed", "err", err)
		t.setError(answerError(err))
	}
}

// isQuilt reports whether a job stores a quilt (its Blob object is marked
// as one).
func isQuilt(o jobs.Options) bool { return o.Attributes[quiltTypeAttr] == quiltTypeValue }
