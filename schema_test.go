package itad

import "testing"

func TestMigrations(t *testing.T) {
	ms := Migrations()
	if len(ms) == 0 {
		t.Fatal("no migrations in schema.sql")
	}
	for i, m := range ms {
		if m.Version != i+1 || m.Description == "" || m.SQL == "" {
			t.Errorf("migration %d: %+v", i, m)
		}
	}
}
