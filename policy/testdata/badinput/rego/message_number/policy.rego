package atoll

deny contains 42 if { true }
