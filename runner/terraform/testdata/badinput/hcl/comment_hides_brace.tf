module "m" {
  source = "./m" /* } */
