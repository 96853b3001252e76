package atoll

deny contains msg if {
	msg := concat("", [x | some i in numbers.range(1, 10000); x := "0123456789"])
}
