package publisher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/local"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/publisher/jobs"
)

// storeResult is the answer of PUT /v1/blobs, as tests read it.
type storeResult struct {
	NewlyCreated *struct {
		BlobObject struct {
			ID              string  `json:"id"`
			RegisteredEpoch uint32  `json:"registeredEpoch"`
			BlobID          string  `json:"blobId"`
			Size            uint64  `json:"size"`
			EncodingType    string  `json:"encodingType"`
			CertifiedEpoch  *uint32 `json:"certifiedEpoch"`
			Storage         struct {
				ID          string `json:"id"`
				StartEpoch  uint32 `json:"startEpoch"`
				EndEpoch    uint32 `json:"endEpoch"`
				StorageSize uint64 `json:"storageSize"`
			} `json:"storage"`
			Deletable bool `json:"deletable"`
		} `json:"blobObject"`
		ResourceOperation struct {
			RegisterFromScratch *struct {
				EncodedLength uint64 `json:"encodedLength"`
				EpochsAhead   uint32 `json:"epochsAhead"`
			} `json:"registerFromScratch"`
		} `json:"resourceOperation"`
		Cost             uint64  `json:"cost"`
		SharedBlobObject *string `json:"sharedBlobObject"`
	} `json:"newlyCreated"`
	AlreadyCertified *struct {
		BlobID string `json:"blobId"`
		Event  *struct {
			TxDigest string `json:"txDigest"`
			EventSeq string `json:"eventSeq"`
		} `json:"event"`
		Object   *string `json:"object"`
		EndEpoch uint32  `json:"endEpoch"`
	} `json:"alreadyCertified"`
}

func decodeResult(t testing.TB, body []byte) storeResult {
	t.Helper()
	var r storeResult
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	if (r.NewlyCreated == nil) == (r.AlreadyCertified == nil) {
		t.Fatalf("answer holds not exactly one variant: %s", body)
	}
	return r
}

// jsonKeys returns the keys of the JSON object at path (dot-separated) in
// body, in order of appearance.
func jsonKeys(t testing.TB, body []byte, path ...string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if len(path) > 0 {
		return jsonKeys(t, m[path[0]], path[1:]...)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.Token()
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return keys
}

// spoolEmpty checks that the spool is (or, within a few seconds, becomes)
// empty: a job is marked done before its spool file is removed.
func spoolEmpty(t testing.TB, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Fatalf("spool not empty: %v", names)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noJobLeft checks that every job is finished and no spool file is left.
func noJobLeft(t testing.TB, st *jobs.Store, spool string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		all, _, err := st.List(context.Background(), jobs.ListOptions{Limit: jobs.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		var open []string
		for _, j := range all {
			if !j.State.Terminal() {
				open = append(open, j.ID+":"+string(j.State))
			}
		}
		if len(open) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs left unfinished: %v", open)
		}
		time.Sleep(20 * time.Millisecond)
	}
	spoolEmpty(t, spool)
}

func TestUploadCertifies(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			tn := newTestNet(t, netOptions{}, testShards...)
			st := openStore(t, newStoreSpec(t, kind))
			spool := t.TempDir()
			cfg := testConfig(t, tn, st, spool)
			cfg.StoragePrice, cfg.WritePrice = 1000, 20000
			tp := startPublisher(t, cfg)
			ctx := context.Background()

			blob := randomBlob(t, 300_000)
			want, err := codec.ComputeBlobID(blob, tn.nShards)
			if err != nil {
				t.Fatal(err)
			}
			code, body, hdr := put(t, tp.url, "/v1/blobs?epochs=3", bytes.NewReader(blob), nil)
			if code != http.StatusOK {
				t.Fatalf("PUT: %d %s", code, body)
			}
			if got := jsonKeys(t, body, "newlyCreated"); !slices.Equal(got, []string{"blobObject", "resourceOperation", "cost"}) {
				t.Errorf("newlyCreated keys %v", got)
			}
			if got := jsonKeys(t, body, "newlyCreated", "blobObject"); !slices.Equal(got, []string{"id", "registeredEpoch", "blobId", "size", "encodingType", "certifiedEpoch", "storage", "deletable"}) {
				t.Errorf("blobObject keys %v", got)
			}
			if got := jsonKeys(t, body, "newlyCreated", "blobObject", "storage"); !slices.Equal(got, []string{"id", "startEpoch", "endEpoch", "storageSize"}) {
				t.Errorf("storage keys %v", got)
			}
			r := decodeResult(t, body)
			nc := r.NewlyCreated
			bo := nc.BlobObject
			encLen, _ := chain.EncodedBlobLength(uint64(len(blob)), uint16(tn.nShards))
			switch {
			case bo.BlobID != want.String():
				t.Errorf("blob ID %s, want %s", bo.BlobID, want)
			case bo.Size != uint64(len(blob)), bo.EncodingType != "RS2", !bo.Deletable:
				t.Errorf("blob object %+v", bo)
			case bo.CertifiedEpoch == nil || *bo.CertifiedEpoch != bo.RegisteredEpoch:
				t.Errorf("certified epoch %v, registered %d", bo.CertifiedEpoch, bo.RegisteredEpoch)
			case bo.Storage.StartEpoch != bo.RegisteredEpoch, bo.Storage.EndEpoch != bo.RegisteredEpoch+3, bo.Storage.StorageSize != encLen:
				t.Errorf("storage %+v (encoded length %d)", bo.Storage, encLen)
			case bo.Storage.ID == bo.ID || !strings.HasPrefix(bo.ID, "0x") || len(bo.ID) != 66:
				t.Errorf("object IDs %s and %s", bo.ID, bo.Storage.ID)
			case nc.ResourceOperation.RegisterFromScratch == nil || nc.ResourceOperation.RegisterFromScratch.EpochsAhead != 3 || nc.ResourceOperation.RegisterFromScratch.EncodedLength != encLen:
				t.Errorf("resource operation %+v", nc.ResourceOperation.RegisterFromScratch)
			case nc.Cost != storageCost(encLen, 3, 1000, 20000) || nc.SharedBlobObject != nil:
				t.Errorf("cost %d, shared %v", nc.Cost, nc.SharedBlobObject)
			}
			st1, err := tn.ledger.BlobStatus(ctx, want)
			if err != nil || st1.DeletableCounts.Certified != 1 {
				t.Errorf("ledger status %+v, %v", st1, err)
			}
			got, err := tn.readBlob(ctx, want)
			if err != nil || !bytes.Equal(got, blob) {
				t.Fatalf("read back: %v (equal %v)", err, bytes.Equal(got, blob))
			}
			jobID := hdr.Get(jobHeader)
			j := waitJob(t, st, jobID, 30*time.Second, "done", func(j jobs.Job) bool { return j.State == jobs.StateDone })
			if j.BlobID != want.String() || j.Registration == nil || j.Certificate == nil || len(j.Nodes) != len(testShards) || j.Attempts != 1 {
				t.Errorf("job %+v", j)
			}
			for _, n := range j.Nodes {
				if n.State != jobs.NodeConfirmed && n.State != jobs.NodeSent {
					t.Errorf("node %s: %s", n.Node, n.State)
				}
			}
			if !bytes.Equal(j.Result, body) {
				t.Errorf("job result %s, answer %s", j.Result, body)
			}
			spoolEmpty(t, spool)

			// The same blob again: certified (deletable, ours) long enough.
			code, body, _ = put(t, tp.url, "/v1/blobs?epochs=2", bytes.NewReader(blob), nil)
			if code != http.StatusOK {
				t.Fatalf("PUT again: %d %s", code, body)
			}
			if got := jsonKeys(t, body, "alreadyCertified"); !slices.Equal(got, []string{"blobId", "object", "endEpoch"}) {
				t.Errorf("alreadyCertified keys %v", got)
			}
			ac := decodeResult(t, body).AlreadyCertified
			if ac.BlobID != want.String() || ac.Object == nil || *ac.Object != bo.ID || ac.EndEpoch != bo.Storage.EndEpoch {
				t.Errorf("alreadyCertified %s", body)
			}
			// Longer than stored: a new object.
			code, body, _ = put(t, tp.url, "/v1/blobs?epochs=5", bytes.NewReader(blob), nil)
			if code != http.StatusOK || decodeResult(t, body).NewlyCreated == nil {
				t.Fatalf("PUT for longer: %d %s", code, body)
			}
			// Permanent, then permanent again: answered with the event.
			code, body, _ = put(t, tp.url, "/v1/blobs?permanent=true&epochs=2", bytes.NewReader(blob), nil)
			if code != http.StatusOK || decodeResult(t, body).NewlyCreated == nil || decodeResult(t, body).NewlyCreated.BlobObject.Deletable {
				t.Fatalf("PUT permanent: %d %s", code, body)
			}
			code, body, _ = put(t, tp.url, "/v1/blobs?permanent=true&epochs=1", bytes.NewReader(blob), nil)
			if got := jsonKeys(t, body, "alreadyCertified"); code != http.StatusOK || !slices.Equal(got, []string{"blobId", "event", "endEpoch"}) {
				t.Fatalf("PUT permanent again: %d %s", code, body)
			}
			if ev := decodeResult(t, body).AlreadyCertified.Event; ev == nil || ev.TxDigest == "" || ev.EventSeq == "" {
				t.Errorf("event %s", body)
			}
			// force: a new object all the same; share: reported.
			code, body, _ = put(t, tp.url, "/v1/blobs?permanent=true&force=true&share=true", bytes.NewReader(blob), nil)
			if code != http.StatusOK || decodeResult(t, body).NewlyCreated == nil || decodeResult(t, body).NewlyCreated.SharedBlobObject == nil {
				t.Fatalf("PUT forced: %d %s", code, body)
			}
			// An empty blob is a blob.
			code, body, _ = put(t, tp.url, "/v1/blobs", bytes.NewReader(nil), nil)
			if code != http.StatusOK || decodeResult(t, body).NewlyCreated == nil {
				t.Fatalf("PUT empty: %d %s", code, body)
			}
			empty, _ := codec.ComputeBlobID(nil, tn.nShards)
			if got, err := tn.readBlob(ctx, empty); err != nil || len(got) != 0 {
				t.Errorf("empty blob read back: %v, %d bytes", err, len(got))
			}
			objs, _ := tn.ledger.BlobObjects(ctx, want)
			if len(objs) != 4 {
				t.Errorf("%d Blob objects, want 4", len(objs))
			}
			noJobLeft(t, st, spool)
		})
	}
}

func TestNodeDownAndLiar(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			tn := newTestNet(t, netOptions{down: map[int]bool{2: true}, liars: map[int]bool{6: true}}, testShards...)
			st := openStore(t, newStoreSpec(t, kind))
			spool := t.TempDir()
			tp := startPublisher(t, testConfig(t, tn, st, spool))
			blob := randomBlob(t, 500_000)
			code, body, hdr := put(t, tp.url, "/v1/blobs?permanent=true", bytes.NewReader(blob), nil)
			if code != http.StatusOK || decodeResult(t, body).NewlyCreated == nil {
				t.Fatalf("PUT: %d %s", code, body)
			}
			id, _ := codec.ComputeBlobID(blob, tn.nShards)
			status, err := tn.ledger.BlobStatus(context.Background(), id)
			if err != nil || !status.IsCertified {
				t.Fatalf("status %+v, %v", status, err)
			}
			j := waitJob(t, st, hdr.Get(jobHeader), 30*time.Second, "done", func(j jobs.Job) bool { return j.State == jobs.StateDone })
			states := map[string]jobs.NodeProgress{}
			for _, n := range j.Nodes {
				states[n.Node] = n
			}
			down, liar := states[nodeKey(tn.committee.Nodes[2])], states[nodeKey(tn.committee.Nodes[6])]
			if down.State != jobs.NodeGivenUp || down.Attempts != testConfig(t, tn, st, spool).NodeAttempts || down.LastError == "" {
				t.Errorf("down node: %+v", down)
			}
			if liar.State != jobs.NodeGivenUp || liar.Attempts != 1 || !strings.Contains(liar.LastError, "invalid storage confirmation") {
				t.Errorf("lying node: %+v", liar)
			}
			if len(j.Certificate.Signers) != 5 || j.Certificate.Weight != 7 || slices.Contains(j.Certificate.Signers, 6) {
				t.Errorf("certificate %+v", j.Certificate)
			}
			got, err := tn.readBlob(context.Background(), id)
			if err != nil || !bytes.Equal(got, blob) {
				t.Fatalf("read back: %v", err)
			}
			spoolEmpty(t, spool)
		})
	}
}

// TestNoQuorum: with more than f shards' nodes unreachable, the upload
// fails as Walrus's does (504 INSUFFICIENT_CONFIRMATIONS) and the job is
// failed with the reason.
func TestNoQuorum(t *testing.T) {
	tn := newTestNet(t, netOptions{down: map[int]bool{0: true, 1: true}}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	spool := t.TempDir()
	tp := startPublisher(t, testConfig(t, tn, st, spool))
	code, body, hdr := put(t, tp.url, "/v1/blobs", bytes.NewReader(randomBlob(t, 1000)), nil)
	checkError(t, code, body, http.StatusGatewayTimeout, "INSUFFICIENT_CONFIRMATIONS", "daemon.walrus.space")
	j, err := st.Get(context.Background(), hdr.Get(jobHeader))
	if err != nil || j.State != jobs.StateFailed || !strings.Contains(j.Failure, "quorum") {
		t.Fatalf("job %+v, %v", j, err)
	}
	noJobLeft(t, st, spool)
}

func TestWaitFalseAndJobs(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	spool := t.TempDir()
	tp := startPublisher(t, testConfig(t, tn, st, spool))
	blob := randomBlob(t, 100_000)
	code, body, hdr := put(t, tp.url, "/v1/blobs?wait=false&epochs=2", bytes.NewReader(blob), nil)
	if code != http.StatusAccepted {
		t.Fatalf("PUT wait=false: %d %s", code, body)
	}
	var acc jobAccepted
	if err := json.Unmarshal(body, &acc); err != nil || acc.JobID == "" || acc.State != jobs.StateReceived || acc.StatusURL != "/v1/jobs/"+acc.JobID || hdr.Get("Location") != acc.StatusURL {
		t.Fatalf("accepted %s (%v), Location %q", body, err, hdr.Get("Location"))
	}
	var v jobView
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get(t, tp.url, acc.StatusURL)
		if code != http.StatusOK {
			t.Fatalf("GET job: %d %s", code, body)
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if v.State == jobs.StateDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not done: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	want, _ := codec.ComputeBlobID(blob, tn.nShards)
	if v.Kind != "blob" || v.BlobID != want.String() || v.Size != int64(len(blob)) || v.Progress.Nodes != 7 ||
		v.Progress.Confirmed+v.Progress.Sent != 7 || v.Registration == nil || v.Options.Epochs != 2 {
		t.Errorf("job view %+v", v)
	}
	if r := decodeResult(t, v.Result); r.NewlyCreated == nil || r.NewlyCreated.BlobObject.BlobID != want.String() {
		t.Errorf("result %s", v.Result)
	}
	code, body = get(t, tp.url, "/v1/jobs/0190aaaa-0000-7000-8000-000000000000")
	checkError(t, code, body, http.StatusNotFound, "JOB_NOT_FOUND", "daemon.walrus.space")
	code, body = get(t, tp.url, "/v1/jobs/not!valid")
	checkError(t, code, body, http.StatusBadRequest, "INVALID_JOB_ID", "daemon.walrus.space")
}

func TestQuilt(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			tn := newTestNet(t, netOptions{}, testShards...)
			st := openStore(t, newStoreSpec(t, kind))
			spool := t.TempDir()
			tp := startPublisher(t, testConfig(t, tn, st, spool))
			files := map[string][]byte{
				"walrus.jpg":         randomBlob(t, 20_000),
				"another_walrus.jpg": randomBlob(t, 3_000),
				"notes.txt":          []byte("hello quilt"),
			}
			meta := `[{"identifier": "walrus.jpg", "tags": {"creator": "walrus", "size": 3, "ok": true}}]`
			body, ctype := multipartBody(t, files, meta)
			code, resp, _ := put(t, tp.url, "/v1/quilts?epochs=2", body, http.Header{"Content-Type": {ctype}})
			if code != http.StatusOK {
				t.Fatalf("PUT quilt: %d %s", code, resp)
			}
			if got := jsonKeys(t, resp); !slices.Equal(got, []string{"blobStoreResult", "storedQuiltBlobs"}) {
				t.Errorf("keys %v", got)
			}
			var qr struct {
				BlobStoreResult  json.RawMessage `json:"blobStoreResult"`
				StoredQuiltBlobs []struct {
					Identifier   string    `json:"identifier"`
					QuiltPatchID string    `json:"quiltPatchId"`
					Range        [2]uint16 `json:"range"`
				} `json:"storedQuiltBlobs"`
			}
			if err := json.Unmarshal(resp, &qr); err != nil {
				t.Fatal(err)
			}
			r := decodeResult(t, qr.BlobStoreResult)
			if r.NewlyCreated == nil {
				t.Fatalf("quilt result %s", resp)
			}
			qid, _ := codec.ParseBlobID(r.NewlyCreated.BlobObject.BlobID)
			var ids []string
			for _, s := range qr.StoredQuiltBlobs {
				ids = append(ids, s.Identifier)
				pid, err := codec.ParseQuiltPatchID(s.QuiltPatchID)
				if err != nil || pid.Quilt != qid || pid.Patch.Start != s.Range[0] || pid.Patch.End != s.Range[1] {
					t.Errorf("patch %+v: %v", s, err)
				}
			}
			if !slices.Equal(ids, []string{"another_walrus.jpg", "notes.txt", "walrus.jpg"}) {
				t.Errorf("identifiers %v", ids)
			}
			raw, err := tn.readBlob(context.Background(), qid)
			if err != nil {
				t.Fatal(err)
			}
			q, err := tn.code.ParseQuilt(raw)
			if err != nil {
				t.Fatal(err)
			}
			for name, data := range files {
				f, err := q.File(name)
				if err != nil || !bytes.Equal(f.Data, data) {
					t.Errorf("file %s: %v", name, err)
				}
			}
			f, _ := q.File("walrus.jpg")
			if f.Tags["creator"] != "walrus" || f.Tags["size"] != "3" || f.Tags["ok"] != "true" {
				t.Errorf("tags %v", f.Tags)
			}
			obj, _ := chain.ParseObjectID(r.NewlyCreated.BlobObject.ID)
			rec, err := tn.ledger.Blob(context.Background(), obj)
			if err != nil || rec.Attributes["_walrusBlobType"] != "quilt" {
				t.Errorf("attributes %v, %v", rec.Attributes, err)
			}
			// Again: already certified, with the same patches.
			body, ctype = multipartBody(t, files, meta)
			code, resp2, _ := put(t, tp.url, "/v1/quilts?epochs=1", body, http.Header{"Content-Type": {ctype}})
			if code != http.StatusOK || !strings.Contains(string(resp2), `"alreadyCertified"`) || !strings.Contains(string(resp2), qr.StoredQuiltBlobs[0].QuiltPatchID) {
				t.Errorf("again: %d %s", code, resp2)
			}
			noJobLeft(t, st, spool)
		})
	}
}

func TestCORSStatusAPI(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	tp := startPublisher(t, testConfig(t, tn, st, t.TempDir()))

	req, _ := http.NewRequest(http.MethodOptions, tp.url+"/v1/blobs", nil)
	req.Header.Set("Origin", "https://example.com")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusOK || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Methods") != "*" ||
		h.Get("Access-Control-Allow-Headers") != "authorization, content-type" || h.Get("Access-Control-Max-Age") != "86400" {
		t.Errorf("preflight: %d %v", resp.StatusCode, h)
	}

	if code, body := get(t, tp.url, "/status"); code != http.StatusOK || string(body) != "OK" {
		t.Errorf("/status: %d %q", code, body)
	}
	code, body := get(t, tp.url, "/v1/api")
	if code != http.StatusOK || !strings.Contains(string(body), "Redoc.init") || !strings.Contains(string(body), `"/v1/blobs"`) {
		t.Errorf("/v1/api: %d %.200s", code, body)
	}
	code, body = get(t, tp.url, "/v1/api/openapi.json")
	var spec struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &spec); code != http.StatusOK || err != nil {
		t.Fatalf("spec: %d %v", code, err)
	}
	for path, method := range map[string]string{"/v1/blobs": "put", "/v1/quilts": "put", "/v1/jobs/{id}": "get", "/status": "get", "/v1/api": "get"} {
		if _, ok := spec.Paths[path][method]; !ok {
			t.Errorf("spec lacks %s %s", method, path)
		}
	}

	code, body, _ = put(t, tp.url, "/v1/blobs", strings.NewReader("x"), http.Header{"Origin": {"https://example.com"}})
	if code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	rec := httpRecorder(t, tp.MetricsHandler(), "/metrics")
	for _, m := range []string{`haulout_publisher_uploads_total{outcome="newly_created"} 1`, "haulout_publisher_http_requests_total", "haulout_publisher_step_duration_seconds_bucket"} {
		if !strings.Contains(rec, m) {
			t.Errorf("metrics lack %s", m)
		}
	}
}

// multipartBody is a quilt upload's body: one field per file, and
// _metadata when meta is not empty.
func multipartBody(t testing.TB, files map[string][]byte, meta string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	boundary := "haulout-test-boundary"
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q; filename=\"ignored\"\r\nContent-Type: application/octet-stream\r\n\r\n", boundary, n)
		b.Write(files[n])
		b.WriteString("\r\n")
	}
	if meta != "" {
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"_metadata\"\r\n\r\n%s\r\n", boundary, meta)
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return &b, "multipart/form-data; boundary=" + boundary
}

func httpRecorder(t testing.TB, h http.Handler, path string) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w.Body.String()
}

func httpDo(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(body)))
	return w
}

// epochFlipLedger advances the epoch just before the first Certify, which
// the ledger then refuses (chain.ErrEpochMismatch): the confirmations were
// signed in the epoch before.
type epochFlipLedger struct {
	*local.Ledger
	flipped atomic.Bool
}

func (l *epochFlipLedger) Certify(ctx context.Context, id chain.ObjectID, cert chain.Certificate) (chain.BlobRecord, error) {
	if !l.flipped.Swap(true) {
		if _, err := l.AdvanceEpoch(ctx); err != nil {
			return chain.BlobRecord{}, err
		}
	}
	return l.Ledger.Certify(ctx, id, cert)
}

// TestEpochChange: an epoch change between the confirmations and the
// certificate makes the publisher collect confirmations again, in the new
// epoch, and certify with those.
func TestEpochChange(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	cfg := testConfig(t, tn, st, t.TempDir())
	led := &epochFlipLedger{Ledger: tn.ledger}
	cfg.Ledger = led
	cfg.NodeAttempts = 20
	cfg.RetryBackoff = 50 * time.Millisecond
	cfg.MaxRetryBackoff = 200 * time.Millisecond
	tp := startPublisher(t, cfg)
	blob := randomBlob(t, 50_000)
	code, body, hdr := put(t, tp.url, "/v1/blobs?epochs=3", bytes.NewReader(blob), nil)
	if code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	r := decodeResult(t, body).NewlyCreated
	if !led.flipped.Load() || r == nil || r.BlobObject.CertifiedEpoch == nil || *r.BlobObject.CertifiedEpoch != r.BlobObject.RegisteredEpoch+1 {
		t.Fatalf("answer %s", body)
	}
	j := waitJob(t, st, hdr.Get(jobHeader), 30*time.Second, "done", func(j jobs.Job) bool { return j.State == jobs.StateDone })
	if j.Certificate == nil || j.Certificate.Epoch != r.BlobObject.RegisteredEpoch+1 {
		t.Errorf("certificate %+v", j.Certificate)
	}
	id, _ := codec.ComputeBlobID(blob, tn.nShards)
	if got, err := tn.readBlob(context.Background(), id); err != nil || !bytes.Equal(got, blob) {
		t.Errorf("read back: %v", err)
	}
}

// TestRefusedBlobs: a blob on the blocklist gets Walrus's 451, one whose ID
// the ledger marked invalid its 500; both jobs fail with the reason.
func TestRefusedBlobs(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	spool := t.TempDir()
	ctx := context.Background()
	blocked, invalid := randomBlob(t, 1000), randomBlob(t, 2000)
	blockedID, _ := codec.ComputeBlobID(blocked, tn.nShards)
	invalidID, _ := codec.ComputeBlobID(invalid, tn.nShards)
	epoch, _ := tn.ledger.CurrentEpoch(ctx)
	msg := chaintest.InvalidBlobID(invalidID, epoch)
	signers := []uint16{0, 1} // 4 shards of 10: above the validity threshold
	sigs := []bls.Signature{chaintest.NodeKey(0).Sign(msg), chaintest.NodeKey(1).Sign(msg)}
	cert, err := chain.NewCertificate(signers, msg, sigs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.ledger.InvalidateBlobID(ctx, cert); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, tn, st, spool)
	cfg.Blocklist = []codec.BlobID{blockedID}
	tp := startPublisher(t, cfg)

	code, body, hdr := put(t, tp.url, "/v1/blobs", bytes.NewReader(blocked), nil)
	checkError(t, code, body, http.StatusUnavailableForLegalReasons, "FORBIDDEN_BLOB", "daemon.walrus.space")
	if j, err := st.Get(ctx, hdr.Get(jobHeader)); err != nil || j.State != jobs.StateFailed || j.Registration != nil {
		t.Errorf("blocked job %+v, %v", j, err)
	}
	code, body, hdr = put(t, tp.url, "/v1/blobs?force=true", bytes.NewReader(invalid), nil)
	checkError(t, code, body, http.StatusInternalServerError, "INTERNAL_ERROR", "global")
	if j, err := st.Get(ctx, hdr.Get(jobHeader)); err != nil || j.State != jobs.StateFailed || !strings.Contains(j.Failure, "marked invalid") {
		t.Errorf("invalid job %+v, %v", j, err)
	}
	noJobLeft(t, st, spool)
}

// TestPrune: finished jobs older than JobRetention are deleted at start
// (and every SpoolGrace); unfinished ones stay.
func TestPrune(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	ctx := context.Background()
	finished, err := st.Create(ctx, jobs.NewJob{Size: 1, SpoolPath: "/nonexistent"}, "other", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Fail(ctx, finished.Lease, "test"); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, tn, st, t.TempDir())
	cfg.JobRetention = time.Nanosecond
	startPublisher(t, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := st.Get(ctx, finished.ID); errors.Is(err, jobs.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the finished job was not pruned")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
