package atoll

deny contains msg if {
	msg := f(1)
}

f(x) := y if {
	y := f(x)
}
