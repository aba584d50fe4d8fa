package iatireport

// SetMaxTransactions lowers the limit of transactions an activity is
// refused over before it is read, for a test, and returns a function that
// restores it.
func SetMaxTransactions(n int) (restore func()) {
	old := maxTransactions
	maxTransactions = n
	return func() { maxTransactions = old }
}
