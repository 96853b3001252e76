package atoll

deny[msg] {
	msg := "old style"
}
