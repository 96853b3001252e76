package atoll

deny contains " " if { true }
