package atoll

deny contains msg if {
	some i in numbers.range(1, 3000)
	some j in numbers.range(1, 3000)
	some k in numbers.range(1, 3000)
	i + j + k < 0
	msg := "never"
}
