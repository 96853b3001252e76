package atoll

deny contains msg if {
	xs := [[i, j, "padding-padding-padding"] | some i in numbers.range(1, 5000); some j in numbers.range(1, 5000)]
	count(xs) < 0
	msg := "never"
}
