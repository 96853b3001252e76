from_tfvars = "tfvars wins over the environment"
