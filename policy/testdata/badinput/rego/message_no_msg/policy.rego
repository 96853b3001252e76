package atoll

deny contains {"resource": "a.b"} if { true }
