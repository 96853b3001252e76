package atoll

deny contains msg if {
	msg := "unclosed"
