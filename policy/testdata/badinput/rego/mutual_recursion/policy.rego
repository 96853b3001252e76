package atoll

deny contains msg if {
	a
	msg := "x"
}

a if b

b if a
