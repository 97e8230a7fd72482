package nodeclient

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
)

func TestNew(t *testing.T) {
	for _, bad := range []string{"", "node:9185", "ftp://node", "http://", "://x"} {
		if _, err := New(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	c, err := New("https://node.example:9185/")
	if err != nil || c.URL() != "https://node.example:9185" {
		t.Fatalf("%v %v", c, err)
	}
}

func TestErrorsAndLimits(t *testing.T) {
	id, _ := codec.ParseBlobID("vldooumlbSRuiUvv54k0MowsF5afG7SVC0b9oXufbzQ")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/blobs/{id}/metadata", func(w http.ResponseWriter, r *http.Request) {
		apierr.Write(w, nil, apierr.New(apierr.NotFound, apierr.DomainStorage, "METADATA_NOT_FOUND", "the requested metadata is unavailable"))
	})
	mux.HandleFunc("GET /v1/blobs/{id}/slivers/{p}/{a}", func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 2000)) // beyond the client's limit below
	})
	mux.HandleFunc("GET /v1/blobs/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"success":{"code":200,"data":{"permanent":{"endEpoch":9,"isCertified":true,"statusEvent":{"txDigest":"11111111111111111111111111111111","eventSeq":"0"},"deletableCounts":{"count_deletable_total":0,"count_deletable_certified":0},"initialCertifiedEpoch":3}}}}`))
	})
	mux.HandleFunc("GET /v1/blobs/{id}/confirmation/permanent", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"success":{"code":200,"data":{}}}`))
	})
	mux.HandleFunc("GET /v1/blobs/{id}/metadata/status", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`not json`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := New(srv.URL, WithMaxBodySize(1000))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	_, err = c.GetMetadata(ctx, id)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code() != 404 || !errors.Is(err, &apierr.Error{Reason: "METADATA_NOT_FOUND", Domain: apierr.DomainStorage}) {
		t.Fatalf("metadata: %v", err)
	}
	if !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("error without the node: %v", err)
	}
	if _, err := c.GetSliver(ctx, id, 0, codec.Primary); !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("sliver: %v", err)
	}
	st, err := c.BlobStatus(ctx, id)
	if err != nil || st.Kind != chain.StatusPermanent || st.EndEpoch != 9 || !st.IsCertified {
		t.Fatalf("status: %+v %v", st, err)
	}
	if _, err := c.Confirmation(ctx, id, chain.PersistencePermanent()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("confirmation without signature: %v", err)
	}
	if _, err := c.MetadataStatus(ctx, id); !errors.Is(err, ErrMalformed) {
		t.Fatalf("metadata status: %v", err)
	}
	// A node that is not there.
	srv.Close()
	if _, err := c.Health(ctx, false); err == nil || errors.As(err, &ae) {
		t.Fatalf("health of a closed server: %v", err)
	}
}
