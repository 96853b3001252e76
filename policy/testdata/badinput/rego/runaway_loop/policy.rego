package atoll

deny contains msg if {
	some i in numbers.range(1, 1000000000)
	i < 0
	msg := "never"
}
