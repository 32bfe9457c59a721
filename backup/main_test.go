package backup

import (
	"os"
	"testing"

	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/s3test"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	s3test.Stop()
	os.Exit(code)
}
