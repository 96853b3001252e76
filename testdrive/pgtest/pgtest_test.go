package pgtest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestDatabaseIsFreshAndReal checks that each test gets its own empty
// database on a real server that keeps what is written.
func TestDatabaseIsFreshAndReal(t *testing.T) {
	ctx := context.Background()
	a, b := Database(t), Database(t)
	if a == b {
		t.Fatalf("two databases share the URL %s", a)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version[:3] != "15." {
		t.Errorf("server_version = %s, want Debian's PostgreSQL 15", version)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	other, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	var n int
	if err := other.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n); err != nil || n != 0 {
		t.Errorf("second database sees the first one's table: n=%d err=%v", n, err)
	}
}

// TestStopRemovesEverything checks that a stopped server is gone and its
// directory removed.
func TestStopRemovesEverything(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateDatabase(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("directory %s still there after Stop: %v", s.dir, err)
	}
	if conn, err := pgx.Connect(ctx, u); err == nil {
		conn.Close(ctx)
		t.Error("connected to a stopped server")
	}
	s.Stop()
}

// TestMissingBinariesSayHowToInstall checks the message a developer
// without PostgreSQL gets.
func TestMissingBinariesSayHowToInstall(t *testing.T) {
	t.Setenv("ATOLL_PG_BIN", t.TempDir())
	_, err := Start(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("Start without binaries: %v; want a message naming make tools", err)
	}
}
