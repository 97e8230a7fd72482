package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/haulout/haulout/publisher/jobs"
)

// TestSQLitePath: the embedded store takes any file name, including the
// characters that a file: URI would otherwise read as its query or escapes,
// and a relative path.
func TestSQLitePath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("? and # are not allowed in Windows file names")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "state #1 ?x=y %20", "jobs?.db")
	s, err := jobs.Open(ctx, jobs.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.Create(ctx, newJob(1), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not where it was asked to be: %v", err)
	}

	t.Chdir(filepath.Dir(path))
	s = open(t, jobs.Config{Path: filepath.Base(path)})
	if _, err := s.Get(ctx, j.ID); err != nil {
		t.Fatalf("reopened by a relative path: %v", err)
	}
	if s.Backend() != "sqlite" {
		t.Fatalf("backend %q", s.Backend())
	}
}

func TestOpenNeedsADatabase(t *testing.T) {
	_, err := jobs.Open(context.Background(), jobs.Config{})
	wantErr(t, "open with an empty config", err, jobs.ErrInvalidArgument)
}
