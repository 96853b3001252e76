package atoll

deny contains msg if {
	msg := sprintf("%v", [undefined_thing])
}
