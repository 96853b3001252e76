variable "x" {}

module "m" {
  source = "./${var.x}"
}
