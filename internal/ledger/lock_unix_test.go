//go:build unix

package ledger

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestChecksAtOpenSkipAFileInUse: the checks of an open read the file
// before bbolt locks it, so they must not read a file another open holds,
// whose pages that open may be rewriting: a free-page list caught halfway
// through a commit would be called damaged. bbolt's lock then reports the
// file in use.
func TestChecksAtOpenSkipAFileInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)

	f, err := os.Open(path)
	require.NoError(t, err)
	assert.True(t, lockedByAnother(f), "bbolt holds the file")
	require.NoError(t, f.Close())

	require.NoError(t, db.Close())
	f, err = os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, lockedByAnother(f), "nothing holds the file")
	// The shared lock f now has keeps a writer out until f is closed.
	_, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 50 * time.Millisecond})
	assert.Error(t, err)
}
