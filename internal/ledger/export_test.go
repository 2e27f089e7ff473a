package ledger

// WithFingerprint makes the dedup index fingerprint keys with f, so that a
// test can make different keys share a fingerprint.
func WithFingerprint(f func(key []byte) uint64) Option {
	return func(o *openOptions) { o.fingerprint = f }
}
