variable "token" {
  type = string
}

resource "terraform_data" "x" {
  input = var.token

  lifecycle {
    precondition {
      condition     = var.token == "expected"
      error_message = "The token was rejected."
    }
  }
}
