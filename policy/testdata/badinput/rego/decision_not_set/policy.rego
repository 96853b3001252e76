package atoll

deny := "everything"
