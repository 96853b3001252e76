terraform {
  backend "local" {}
}

variable "seconds" {
  type    = number
  default = 60
}

resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "echo atoll-provisioner-started; sleep ${var.seconds}"
  }
}
