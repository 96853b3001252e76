package atoll

deny contains msg if {
	some i in numbers.range(1, 5000)
	msg := sprintf("resource %d is not allowed", [i])
}
