package migrations

import (
	"io/fs"
	"maps"
	"slices"
	"testing"

	"github.com/golang-migrate/migrate/v4/source"
)

// TestEnginesAgree checks what golang-migrate and the readers of this
// package rely on: every file parses as a migration, every up has its down,
// and both engines carry the same versions under the same titles.
func TestEnginesAgree(t *testing.T) {
	versions := map[string]map[uint]string{}
	for name, fsys := range map[string]fs.FS{"postgres": Postgres(), "sqlite": SQLite()} {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ups, downs := map[uint]string{}, map[uint]string{}
		for _, e := range entries {
			m, err := source.DefaultParse(e.Name())
			if err != nil {
				t.Fatalf("%s/%s: %v", name, e.Name(), err)
			}
			b, err := fs.ReadFile(fsys, e.Name())
			if err != nil || len(b) == 0 {
				t.Fatalf("%s/%s: empty or unreadable: %v", name, e.Name(), err)
			}
			switch m.Direction {
			case source.Up:
				ups[m.Version] = m.Identifier
			case source.Down:
				downs[m.Version] = m.Identifier
			}
		}
		if len(ups) == 0 {
			t.Fatalf("%s: no migrations", name)
		}
		if !maps.Equal(ups, downs) {
			t.Errorf("%s: up %v and down %v migrations differ", name, ups, downs)
		}
		versions[name] = ups
	}
	if !maps.Equal(versions["postgres"], versions["sqlite"]) {
		t.Errorf("postgres has %v, sqlite %v: the engines must carry the same versions",
			slices.Sorted(maps.Keys(versions["postgres"])), slices.Sorted(maps.Keys(versions["sqlite"])))
	}
}
