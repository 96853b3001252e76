# Variables set through Config.Env (TF_VAR_*), which reach terraform in a
# var file: they must keep the meaning they have in the environment.

variable "plain" {
  # untyped: the value is a string
}

variable "count_of" {
  type = number
}

variable "names" {
  type = list(string)
}

variable "from_tfvars" {
  type = string
}

resource "terraform_data" "v" {
  input = {
    plain       = var.plain
    count_of    = var.count_of
    names       = var.names
    from_tfvars = var.from_tfvars
  }
}
