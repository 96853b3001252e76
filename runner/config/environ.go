package config

import "sort"

// Environ is the environment every terraform run gets: terraform.env's
// values and, read through lookup (os.LookupEnv), those of the variables
// terraform.secrets_env names that are set. secrets are the values to
// mask in every text atoll writes: env's entries marked secret and every
// secrets_env value, sorted.
func (t Terraform) Environ(lookup func(string) (string, bool)) (env map[string]string, secrets []string) {
	env = map[string]string{}
	for k, v := range t.Env {
		env[k] = v.Value
		if v.Secret {
			secrets = append(secrets, v.Value)
		}
	}
	for _, name := range t.SecretsEnv {
		if v, ok := lookup(name); ok {
			env[name] = v
			secrets = append(secrets, v)
		}
	}
	sort.Strings(secrets)
	return env, secrets
}
