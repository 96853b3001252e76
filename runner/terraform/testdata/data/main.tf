terraform {
  required_version = ">= 1.5.0"
}

variable "label" {
  type    = string
  default = "one"
}

variable "token" {
  type    = string
  default = ""
}

variable "password" {
  type      = string
  default   = ""
  sensitive = true
}

resource "terraform_data" "keep" {
  input = var.label
}

resource "terraform_data" "repl" {
  triggers_replace = "a"
}

resource "terraform_data" "gone" {
  input = "bye"
}

resource "terraform_data" "old" {
  input = "moving"
}

output "label" {
  value = terraform_data.keep.output
}

output "echo" {
  value = var.token
}

output "password" {
  value     = var.password
  sensitive = true
}
