package atoll

deny contains msg if {
	xs := [sprintf("%d-padding-padding-padding", [i]) | some i in numbers.range(1, 100000000)]
	count(xs) < 0
	msg := "never"
}
